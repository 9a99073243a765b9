import { AbstractChat, type ChatInit, type ChatState, type ChatStatus, DefaultChatTransport, type UIMessage } from "ai";

/** The plainest ChatState: what useChat keeps in React state. */
export class ArrayState implements ChatState<UIMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  messages: UIMessage[] = [];
  pushMessage = (message: UIMessage) => {
    this.messages = [...this.messages, message];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UIMessage) => {
    this.messages = this.messages.map((existing, at) => (at === index ? message : existing));
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

/**
 * `ai`'s own chat (AbstractChat, what useChat wraps) in Node, unchanged, against Brook's
 * `/api/chat` at `url`; its failures go to `errors`.
 */
export class NodeChat extends AbstractChat<UIMessage> {
  readonly chatState: ArrayState;
  constructor(
    url: string,
    id: string,
    errors: Error[],
    options: Pick<ChatInit<UIMessage>, "sendAutomaticallyWhen"> = {},
  ) {
    const state = new ArrayState();
    super({
      id,
      state,
      transport: new DefaultChatTransport({ api: `${url}/api/chat` }),
      ...options,
      onError: (error) => errors.push(error),
    });
    this.chatState = state;
  }
}
