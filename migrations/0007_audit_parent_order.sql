ALTER TABLE `execution_logs` ADD `parent_order_id` text;--> statement-breakpoint
CREATE INDEX `execution_logs_parent` ON `execution_logs` (`parent_order_id`);