// Alpaca's ids are UUIDs (orders, executions, assets).
export const randomId = (): string => crypto.randomUUID();
