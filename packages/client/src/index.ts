export type { AppRouter } from "@brook/server";
export {
  type AnswerInputResult,
  type ApprovalAnswer,
  type ApproveResult,
  type Attachment,
  type ChatEvent,
  ChatEventParseError,
  type ChatRequest,
  type ChatResult,
  ChatStreamEndedError,
  type Health,
  type InputAnswer,
  type InputRequestEvent,
  type McpConnectResult,
  type McpServerStatus,
  type ObjectEvent,
  type ReceivedChatEvent,
  readChatEvents,
  type Stats,
  type ToolApprovalEvent,
  type ToolImage,
  type ToolProgressEvent,
  type ToolResourceLink,
  type Usage,
} from "@brook/shared";
export { attachmentFromBlob, attachmentFromBytes, attachmentFromPath, mediaTypeOf } from "./attachments.js";
export {
  type ApprovalRequest,
  type BrookClient,
  type BrookClientOptions,
  BrookHttpError,
  createBrookClient,
  type InputRequest,
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
