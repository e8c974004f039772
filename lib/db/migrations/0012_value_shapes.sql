-- Value shapes of the JSONB columns people edit in Retool. The sync reads them in one shape only (lib/entities/
-- canonical.ts): `categories` a JSON array of category ids, services' `materials_included` a JSON array of
-- {"materialId": id, "quantity": number} objects. A value saved in another shape (the array saved as a JSON string
-- '"[1,2]"', ids as text, a line without its materialId) is refused here, when it is written, with an error that
-- names the column, the rule and what was received, instead of being found by the next sync run.
--
-- Enforced by triggers that raise a check_violation naming the rule as its constraint, not by CHECK constraints:
-- a CHECK, even added NOT VALID, is checked on every later UPDATE of the row whatever column it changes. A row that
-- already holds a malformed value (saved before this migration) could then not be touched by anyone but a person
-- fixing that value: not marked by the sync with what is wrong (push_error), not soft-deleted, not written by any
-- engine statement that covers it along with other rows, which would fail that whole statement. So the rule applies
-- to the value being written: every INSERT, and every UPDATE that changes the column. Rows from before this migration
-- keep their value until someone changes it; the sync skips such a row and marks it (lib/sync/decide.ts).

-- Whole-number ids as the sync reads them: JSON numbers from 1 to 2^53 - 1 (JavaScript's safe integers), so an id
-- never changes on the way through JSON, or the same negated: the temporary id of a row inserted in Retool and not
-- yet created in ServiceTitan (migration 0011), which the sync re-points once it is. 12.0 is the same number as 12 and passes; "12" (text) does not. SQL, not
-- plpgsql, so it is inlined where it is called; the CASE keeps the cast from ever seeing anything but a number.
CREATE FUNCTION pricebook_is_id(value JSONB) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN jsonb_typeof(value) = 'number'
    THEN abs(value::numeric) BETWEEN 1 AND 9007199254740991 AND value::numeric = trunc(value::numeric)
    ELSE FALSE END
$fn$;

-- `categories`: a JSON array of ids ([] for none). The loops below index the array instead of selecting from
-- jsonb_array_elements: that ran a query per row written and made a 50,000-row insert several times slower.
CREATE FUNCTION pricebook_is_id_list(value JSONB) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF jsonb_typeof(value) IS DISTINCT FROM 'array' THEN
    RETURN FALSE;
  END IF;
  FOR i IN 0 .. jsonb_array_length(value) - 1 LOOP
    IF NOT pricebook_is_id(value -> i) THEN
      RETURN FALSE;
    END IF;
  END LOOP;
  RETURN TRUE;
END
$fn$;

-- A quantity: a JSON number, or a decimal written as text ("2", "0.5"), which the sync reads the same way and a Retool
-- text input sends.
CREATE FUNCTION pricebook_is_quantity(value JSONB) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE jsonb_typeof(value)
    WHEN 'number' THEN TRUE
    WHEN 'string' THEN (value #>> '{}') ~ '^\s*[+-]?[0-9]+(\.[0-9]+)?\s*$'
    ELSE FALSE END
$fn$;

-- `materials_included`: a JSON array of objects, each with a whole-number materialId and a quantity. Other keys in a
-- line (a name Retool shows, say) are tolerated: the sync ignores them.
CREATE FUNCTION pricebook_is_material_list(value JSONB) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  line JSONB;
BEGIN
  IF jsonb_typeof(value) IS DISTINCT FROM 'array' THEN
    RETURN FALSE;
  END IF;
  FOR i IN 0 .. jsonb_array_length(value) - 1 LOOP
    line := value -> i;
    IF jsonb_typeof(line) IS DISTINCT FROM 'object' OR NOT pricebook_is_id(line -> 'materialId')
       OR NOT pricebook_is_quantity(line -> 'quantity') THEN
      RETURN FALSE;
    END IF;
  END LOOP;
  RETURN TRUE;
END
$fn$;

-- Raised by the shape triggers below (only when their WHEN condition found the value malformed). Arguments: the
-- column, the rule's name and the shape expected. The message is what Retool shows: it names the table, the row, the
-- column and the rule, and says what shape is expected and what was received.
CREATE FUNCTION pricebook_refuse_malformed_value() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  col TEXT := TG_ARGV[0];
  rule TEXT := TG_ARGV[1];
  expected TEXT := TG_ARGV[2];
  value JSONB := to_jsonb(NEW) -> col;
  got TEXT := CASE WHEN value IS NULL OR value = 'null'::jsonb THEN 'null'
                   ELSE 'a JSON ' || jsonb_typeof(value) || ' ' || left(value::text, 200) END;
BEGIN
  RAISE EXCEPTION 'new value of %.% (id %) violates check constraint "%": % must be %; got %',
      TG_TABLE_NAME, col, NEW.id, rule, col, expected, got
    USING ERRCODE = 'check_violation', CONSTRAINT = rule, TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA, COLUMN = col,
          HINT = CASE WHEN jsonb_typeof(value) = 'string'
                      THEN 'The value was saved as text: save the JSON array itself, not a string holding it.'
                      ELSE 'Nothing was written; correct the value and save again.' END;
END
$fn$;

-- Two triggers per column: every INSERT, and an UPDATE that changes the column (see the top of this file). Schema
-- code like 0001's helper: called below, then dropped.
CREATE FUNCTION pg_temp.add_shape_rule(tbl TEXT, col TEXT, is_valid TEXT, rule TEXT, expected TEXT) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format(
    'CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW WHEN (NOT %I(NEW.%I)) '
      'EXECUTE FUNCTION pricebook_refuse_malformed_value(%L, %L, %L)',
    tbl || '_' || col || '_shape_insert', tbl, is_valid, col, col, rule, expected);
  EXECUTE format(
    'CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW WHEN (NEW.%I IS DISTINCT FROM OLD.%I AND NOT %I(NEW.%I)) '
      'EXECUTE FUNCTION pricebook_refuse_malformed_value(%L, %L, %L)',
    tbl || '_' || col || '_shape_update', tbl, col, col, is_valid, col, col, rule, expected);
END
$fn$;

SELECT pg_temp.add_shape_rule(tbl, 'categories', 'pricebook_is_id_list', 'categories_must_be_array_of_category_ids',
    'a JSON array of category ids (whole numbers), e.g. [12, 40], or [] for none')
  FROM unnest(ARRAY['pricebook_materials', 'pricebook_equipment', 'pricebook_services']) AS tbl;
SELECT pg_temp.add_shape_rule('pricebook_services', 'materials_included', 'pricebook_is_material_list',
    'materials_included_must_be_array_of_material_id_quantity',
    'a JSON array of {"materialId": <material id, a whole number>, "quantity": <number>} objects, e.g. '
      || '[{"materialId": 9404, "quantity": 2}], or [] for none');
DROP FUNCTION pg_temp.add_shape_rule(TEXT, TEXT, TEXT, TEXT, TEXT);
