-- Who counts as the engine, and who may override the delete guards (docs/security.md, "Database roles" and
-- "Guards").
--
-- Until now the setting pricebook_sync.origin = 'engine' alone made a write the engine's, and any session may set
-- it: a Retool session that did so wrote edits that were never pushed and were overwritten by the next ServiceTitan
-- change, without a conflict or a log line. Likewise any role with DELETE could set
-- pricebook_sync.allow_hard_delete, and TRUNCATE fired no trigger at all.
--
-- The engine is the role that owns the pricebook tables: it ran the migrations, and only it or a superuser can hand
-- that ownership on, so no other session can claim it. A session of that role (or of a role that may become it, or
-- a superuser: both could SET ROLE to it anyway) still marks its writes with the transaction-local setting, as
-- before; so where everything runs as one role (the tests, the embedded demo) the setting remains the mark. For a
-- session of any other role the settings count for nothing: its writes are a person's.

CREATE FUNCTION pricebook_is_engine_role() RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = 'pricebook_materials'::regclass
$fn$;
-- Names in that body resolve through this path, never the caller's: a session could otherwise create a temporary
-- table called pricebook_materials (which it would own), put pg_temp first and pass for the engine.
DO $do$
BEGIN
  EXECUTE format('ALTER FUNCTION pricebook_is_engine_role() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$do$;

-- The setting is read first: a person's write in a single-role setup never pays for the catalog lookup.
CREATE OR REPLACE FUNCTION pricebook_is_engine() RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(current_setting('pricebook_sync.origin', true), '') = 'engine' AND pricebook_is_engine_role()
$fn$;

-- The hard-delete and TRUNCATE override: the explicit, transaction-local opt-in of the engine's role.
CREATE FUNCTION pricebook_hard_delete_allowed() RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(current_setting('pricebook_sync.allow_hard_delete', true), '') = 'on' AND pricebook_is_engine_role()
$fn$;

-- The hint of both refusals. It says why a set override was not taken, so whoever set it does not look for a typo.
CREATE FUNCTION pricebook_delete_refused_hint() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT 'Pricebook rows are soft-deleted: UPDATE ... SET deleted_at = now(). '
    || CASE WHEN coalesce(current_setting('pricebook_sync.allow_hard_delete', true), '') = 'on'
      THEN format('pricebook_sync.allow_hard_delete is set, but it counts only for the engine''s role (the owner of '
        || 'the pricebook tables), not for role %s.', current_user)
      ELSE 'The engine''s role may SET LOCAL pricebook_sync.allow_hard_delete = ''on'' to override.'
    END
$fn$;

CREATE OR REPLACE FUNCTION pricebook_refuse_hard_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF pricebook_hard_delete_allowed() THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'hard DELETE on % is not allowed (id %)', TG_TABLE_NAME, OLD.id
    USING HINT = pricebook_delete_refused_hint(),
          ERRCODE = 'restrict_violation';
END
$fn$;

-- TRUNCATE fires no row trigger, and TRUNCATE pricebook_materials CASCADE also empties vendor_prices and
-- vendor_price_history: local-only data that no sync can bring back, gone without a log line while the health
-- light stays green. Statement-level BEFORE TRUNCATE triggers fire for every table truncated, cascaded ones
-- included, so each table guards itself.
CREATE FUNCTION pricebook_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF pricebook_hard_delete_allowed() THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'TRUNCATE of % is not allowed: it would delete every row, including local data no sync can restore', TG_TABLE_NAME
    USING HINT = pricebook_delete_refused_hint(),
          ERRCODE = 'restrict_violation';
END
$fn$;

CREATE TRIGGER pricebook_categories_refuse_truncate BEFORE TRUNCATE ON pricebook_categories
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
CREATE TRIGGER pricebook_materials_refuse_truncate BEFORE TRUNCATE ON pricebook_materials
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
CREATE TRIGGER pricebook_equipment_refuse_truncate BEFORE TRUNCATE ON pricebook_equipment
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
CREATE TRIGGER pricebook_services_refuse_truncate BEFORE TRUNCATE ON pricebook_services
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
CREATE TRIGGER vendor_prices_refuse_truncate BEFORE TRUNCATE ON vendor_prices
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
CREATE TRIGGER vendor_price_history_refuse_truncate BEFORE TRUNCATE ON vendor_price_history
  FOR EACH STATEMENT EXECUTE FUNCTION pricebook_refuse_truncate();
