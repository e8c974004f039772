-- Verified pushes: the values of a push ServiceTitan kept its own value for (it answered 200 but did not store
-- them). The row stays pending with the reason in push_error, and the same values are not sent again until the
-- row is edited (its values then differ from these) or a person clears this column to retry.
ALTER TABLE pricebook_services ADD COLUMN push_refused JSONB;
ALTER TABLE pricebook_materials ADD COLUMN push_refused JSONB;
ALTER TABLE pricebook_equipment ADD COLUMN push_refused JSONB;
ALTER TABLE pricebook_categories ADD COLUMN push_refused JSONB;
