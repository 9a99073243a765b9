import type { EventSource } from "eventsource";

/** Browsers have their own EventSource: the Node one is not bundled (see `imports` in package.json). */
export const nodeEventSource: typeof EventSource | undefined = undefined;
