-- The legal working-day calendar's yearly changes (src/calendar): the Government's decisions
-- on top of the statutory rules computed in code. An override wins over the rules:
-- 'holiday' makes a day a day off (a bridge or compensatory day), 'working' makes it a working
-- day (a swapped Saturday, or a statutory day off moved elsewhere).
-- Filled by `portal calendar import FILE`; national, so in the control plane.
CREATE TABLE calendar_days (
    day        date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('holiday', 'working')),
    note       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
