DROP TABLE province_stats;
