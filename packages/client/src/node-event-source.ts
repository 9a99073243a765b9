import { EventSource } from "eventsource";

/** Node has no global EventSource: the `eventsource` package, which can send headers through its fetch. */
export const nodeEventSource: typeof EventSource | undefined = EventSource;
