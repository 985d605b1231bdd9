-- The staff queue's default order (nearest deadline first, then newest, then id: see
-- dossiers/queue.rs) as an index, so that the province-level view reads one page of it instead
-- of sorting every dossier of the province (bench/queue_units.py: a parallel seq scan and a
-- top-N sort over 100,000 rows without it). due_on ascending puts nulls last, as the query asks.
CREATE INDEX dossiers_deadline ON dossiers (due_on, submitted_at DESC, id DESC);
