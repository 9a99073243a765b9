export {
  ApprovalDecision,
  ChatEvent,
  CompleteEvent,
  ContentEvent,
  ErrorEvent,
  formatEventId,
  isTerminal,
  JsonValue,
  ObjectEvent,
  parseEventId,
  ReasoningEvent,
  START_MESSAGE,
  StartEvent,
  type TerminalEvent,
  ToolApprovalEvent,
  ToolCallEvent,
  ToolResultEvent,
} from "./chat-event.js";
export { ChatStreamQuery, LastEventIdHeader } from "./chat-query.js";
export { ChatRequest, HistoryMessage, OutputSpec, type ParsedChatRequest, ReasoningEffort } from "./chat-request.js";
export { ChatResult, ErrorBody } from "./chat-result.js";
export { ErrorCode, errorCatalogue, type TrpcErrorCode } from "./error-catalogue.js";
export { chatEventJsonSchema, chatEventSchemaFile } from "./event-schema.js";
export {
  DeploymentStatus,
  Health,
  Mode,
  ModelServerState,
  ModelServerStatus,
  Readiness,
  RedisState,
  ServiceInfo,
  SharedState,
} from "./health.js";
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
export {
  OpenAIResponse,
  OpenAIResponseFunctionCall,
  OpenAIResponseMessage,
  OpenAIResponseOutputItem,
  OpenAIResponseOutputText,
  OpenAIResponseReasoning,
  OpenAIResponseSettings,
  OpenAIResponseStreamEvent,
  OpenAIResponsesFunctionCallItem,
  OpenAIResponsesFunctionCallOutputItem,
  OpenAIResponsesFunctionTool,
  OpenAIResponsesInputItem,
  OpenAIResponsesInputItems,
  OpenAIResponsesMessageItem,
  OpenAIResponsesReasoningItem,
  OpenAIResponsesRequest,
  OpenAIResponsesToolChoice,
  OpenAIResponseUsage,
  type ParsedOpenAIResponsesRequest,
} from "./openai-responses.js";
export {
  type RouteContent,
  type RouteMethod,
  type RouteName,
  type RouteOperation,
  type RouteSpec,
  routeOf,
  routes,
} from "./routes.js";
export {
  ApprovalAnswer,
  ApproveInput,
  ApproveResult,
  CancelResult,
  ChatStreamInput,
  maxApprovalReasonChars,
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
  UIFinishReason,
  UIMessage,
  UIMessageChunk,
  UIMessagePart,
  UIStaticToolPart,
  UITextPart,
  UIToolApproval,
  uiMessageStreamHeader,
} from "./ui-message-stream.js";
export { emptyUsage, Timing, Usage } from "./usage.js";
