-- A unit's names before a reorganisation renamed it or merged others into it (#18): the
-- province's unit list still finds it by them.
ALTER TABLE units ADD COLUMN former_names text[] NOT NULL DEFAULT '{}';
