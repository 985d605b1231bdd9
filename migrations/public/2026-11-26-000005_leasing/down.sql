DROP FUNCTION usage_threshold(text, timestamptz);
DROP FUNCTION record_usage(text, bigint, text, timestamptz);
DROP FUNCTION usage_add(uuid, text, bigint, text, timestamptz);
DROP TABLE outbox;
DROP TABLE usage_period, usage_daily, usage_events, subscription_requests, leases, plan_metrics;
