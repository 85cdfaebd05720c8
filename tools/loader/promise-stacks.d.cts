type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;
export function isUnreadPromiseRecord(frames: NodeJS.CallSite[]): boolean;
export function skippingPromiseRecords(prepare: PrepareStackTrace | undefined): PrepareStackTrace;
