export {
  Attachment,
  base64Bytes,
  base64Head,
  ContentPart,
  type DataUrl,
  FileAttachment,
  FileContentPart,
  ImageAttachment,
  ImageContentPart,
  ImageDetail,
  type ImageMediaType,
  type ImageSize,
  imageDataProblem,
  imageMediaTypes,
  imageSize,
  imageUrlProblem,
  isBase64,
  isTextMediaType,
  parseDataUrl,
  sniffImageType,
  supportedFileTypes,
  TextContentPart,
} from "./attachments.js";
export {
  ChatEvent,
  CompleteEvent,
  ContentEvent,
  ErrorEvent,
  formatEventId,
  isTerminal,
  ObjectEvent,
  parseEventId,
  ReasoningEvent,
  START_MESSAGE,
  StartEvent,
  type TerminalEvent,
  ToolCallEvent,
  ToolResultEvent,
} from "./chat-event.js";
export { ChatRequest, HistoryMessage, OutputSpec, type ParsedChatRequest, ReasoningEffort } from "./chat-request.js";
export { ChatResult, ErrorBody } from "./chat-result.js";
export { ErrorCode, errorCatalogue, type TrpcErrorCode } from "./error-catalogue.js";
export { Health, Mode, ModelServerState, ModelServerStatus, RedisState, ServiceInfo, SharedState } from "./health.js";
export {
  OpenAIAssistantMessage,
  OpenAIChatCompletion,
  OpenAIChatCompletionChunk,
  OpenAIChatRequest,
  OpenAIChunkToolCall,
  OpenAIErrorBody,
  OpenAIFinishReason,
  OpenAIFunctionTool,
  OpenAIMessage,
  OpenAIModel,
  OpenAIModelList,
  OpenAISystemMessage,
  OpenAIToolCall,
  OpenAIToolChoice,
  OpenAIToolMessage,
  OpenAIUsage,
  OpenAIUserMessage,
  type ParsedOpenAIChatRequest,
} from "./openai-chat.js";
export { type RouteName, type RouteSpec, routeOf, routes } from "./routes.js";
export {
  CancelResult,
  ChatStreamInput,
  RunEventsInput,
  RunRef,
  StartResult,
  TrpcErrorData,
} from "./run-control.js";
export { ChatEventParseError, ChatStreamEndedError, type ReceivedChatEvent, readChatEvents } from "./sse-events.js";
export { ModelStats, Percentiles, Stats } from "./stats.js";
export {
  McpServerState,
  McpServerStatus,
  McpTransport,
  ToolInfo,
  ToolList,
} from "./tools.js";
export {
  BrookMessageMetadata,
  UIChatId,
  UIChatOptions,
  UIChatRequest,
  UIDynamicToolPart,
  UIFilePart,
  UIFinishReason,
  UIMessage,
  UIMessageChunk,
  UIMessagePart,
  UIStaticToolPart,
  UITextPart,
  uiMessageStreamHeader,
} from "./ui-message-stream.js";
export { emptyUsage, Timing, Usage } from "./usage.js";
