ALTER TABLE `fills` ADD `realized_pl_micros` integer;--> statement-breakpoint
ALTER TABLE `positions` ADD `avg_price_micros` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `positions` ADD `realized_pl_micros` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Positions written before this migration: their average cost from the cost basis they kept.
UPDATE `positions` SET `avg_price_micros` = CAST(ROUND(`cost_cents` * 10000.0 / `quantity`) AS INTEGER) WHERE `quantity` > 0 AND `avg_price_micros` = 0;
