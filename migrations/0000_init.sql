CREATE TABLE `accounts` (
	`trader_id` text PRIMARY KEY NOT NULL,
	`cash_cents` integer NOT NULL,
	`reserved_cents` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `execution_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`trader_id` text NOT NULL,
	`chain_seq` integer NOT NULL,
	`symbol` text NOT NULL,
	`side` text NOT NULL,
	`action` text NOT NULL,
	`status` text NOT NULL,
	`timestamp` text NOT NULL,
	`reason` text,
	`error_code` text,
	`retry_attempt` integer,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `execution_logs_timestamp` ON `execution_logs` (`timestamp`);--> statement-breakpoint
CREATE INDEX `execution_logs_order` ON `execution_logs` (`order_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `execution_logs_trader_chain` ON `execution_logs` (`trader_id`,`chain_seq`);--> statement-breakpoint
CREATE TABLE `fills` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`trader_id` text NOT NULL,
	`symbol` text NOT NULL,
	`side` text NOT NULL,
	`quantity_filled` integer NOT NULL,
	`price_at_fill` real NOT NULL,
	`price_cents` integer NOT NULL,
	`timestamp` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `fills_order` ON `fills` (`order_id`);--> statement-breakpoint
CREATE TABLE `instruments` (
	`symbol` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`price_cents` integer NOT NULL,
	`tick_cents` integer DEFAULT 1 NOT NULL,
	`depth` integer DEFAULT 10000 NOT NULL,
	`tradable` integer DEFAULT true NOT NULL,
	`faults` text DEFAULT '{}' NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`trader_id` text NOT NULL,
	`client_order_id` text,
	`symbol` text NOT NULL,
	`side` text NOT NULL,
	`quantity` integer NOT NULL,
	`order_type` text NOT NULL,
	`limit_price_cents` integer,
	`stop_price_cents` integer,
	`time_in_force` text NOT NULL,
	`status` text NOT NULL,
	`filled_quantity` integer DEFAULT 0 NOT NULL,
	`filled_notional_cents` integer DEFAULT 0 NOT NULL,
	`avg_fill_price` real,
	`reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orders_trader_created` ON `orders` (`trader_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `orders_status` ON `orders` (`status`);--> statement-breakpoint
CREATE TABLE `positions` (
	`trader_id` text NOT NULL,
	`symbol` text NOT NULL,
	`quantity` integer NOT NULL,
	`cost_cents` integer NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`trader_id`, `symbol`)
);
