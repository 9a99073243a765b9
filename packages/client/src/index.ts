export type { AppRouter } from "@brook/server";
export {
  type Attachment,
  type ChatEvent,
  ChatEventParseError,
  type ChatRequest,
  type ChatResult,
  ChatStreamEndedError,
  type Health,
  type ObjectEvent,
  type ReceivedChatEvent,
  readChatEvents,
  type Stats,
  type Usage,
} from "@brook/shared";
export { attachmentFromBlob, attachmentFromBytes, attachmentFromPath, mediaTypeOf } from "./attachments.js";
export {
  type BrookClient,
  type BrookClientOptions,
  createBrookClient,
  type ReadRunOptions,
  type StreamChatOptions,
  type TrackedChatEvent,
} from "./brook-client.js";
export {
  BrookRunError,
  type DeepPartial,
  type ObjectStream,
  type StreamObjectRequest,
} from "./stream-object.js";
