ALTER TABLE `orders` ADD `order_class` text DEFAULT 'simple' NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `parent_order_id` text;