type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;
export function isUnreadPromiseRecord(frames: NodeJS.CallSite[]): boolean;
export function plainFormat(error: Error, frames: NodeJS.CallSite[]): string;
export function skippingPromiseRecords(prepare: PrepareStackTrace | undefined): PrepareStackTrace;
