DROP TABLE unit_stats;
