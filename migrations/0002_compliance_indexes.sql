DROP INDEX `execution_logs_timestamp`;--> statement-breakpoint
CREATE INDEX `execution_logs_trader_timestamp` ON `execution_logs` (`trader_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `execution_logs_timestamp` ON `execution_logs` (`timestamp`,`chain_seq`,`id`);