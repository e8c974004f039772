-- A push in flight: the values the engine is about to PATCH into ServiceTitan, committed before the call. If the
-- process dies after ServiceTitan applied the PATCH but before the answer was recorded, the next run sees
-- ServiceTitan holding exactly these values and knows they are its own echo, not a ServiceTitan edit: without it,
-- a later Retool edit of the same field would be overwritten by that echo (found by the model-based suite).
-- Cleared whenever ServiceTitan's version is written to the row.
ALTER TABLE pricebook_categories ADD COLUMN push_in_flight JSONB;
ALTER TABLE pricebook_materials ADD COLUMN push_in_flight JSONB;
ALTER TABLE pricebook_equipment ADD COLUMN push_in_flight JSONB;
ALTER TABLE pricebook_services ADD COLUMN push_in_flight JSONB;
