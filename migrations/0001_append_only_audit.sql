-- execution_logs is append-only (SEC 17a-4: non-rewriteable, non-erasable). drizzle-kit does not model
-- triggers, so this migration is hand-written.
CREATE TRIGGER `execution_logs_no_update` BEFORE UPDATE ON `execution_logs`
BEGIN
  SELECT RAISE(ABORT, 'execution_logs is append-only: UPDATE is refused');
END;
--> statement-breakpoint
CREATE TRIGGER `execution_logs_no_delete` BEFORE DELETE ON `execution_logs`
BEGIN
  SELECT RAISE(ABORT, 'execution_logs is append-only: DELETE is refused');
END;
