ALTER TABLE `orders` ADD `trail_price_cents` integer;--> statement-breakpoint
ALTER TABLE `orders` ADD `trail_percent_bp` integer;--> statement-breakpoint
ALTER TABLE `orders` ADD `hwm_cents` integer;