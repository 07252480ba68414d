ALTER TABLE `accounts` ADD `trading_state` text DEFAULT 'ACTIVE' NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `amended_at` text;