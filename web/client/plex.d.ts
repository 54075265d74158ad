// Types for plex.js (optional: the module is plain JavaScript).

export declare const PROTOCOL_VERSION: '1';
export declare const WS_PATH: '/plex/v1/ws';
export declare const WEBPUSH_KEY_PATH: '/plex/v1/webpush/key';

export declare const Code: Readonly<{
  SHUTDOWN: 3000;
  HEARTBEAT_TIMEOUT: 3001;
  SLOW_CONSUMER: 3002;
  AUTH_TIMEOUT: 3003;
  TOO_MANY_CONNECTIONS: 3004;
  INTERNAL: 3005;
  FRAME_TOO_LARGE: 3006;
  BAD_FRAME: 3007;
  OUTCOME_UNKNOWN: 3008;
  AUTH_FAILED: 4001;
  REPLACED: 4002;
  FORBIDDEN: 4003;
  BAD_REQUEST: 4004;
  UNSUPPORTED_VERSION: 4005;
  NOT_FOUND: 4006;
  RATE_LIMITED: 4029;
  REFUSED: 4030;
}>;

export declare const URI: Readonly<Record<string, string>>;

export declare function isTerminal(code: number): boolean;

export interface Message {
  seq: number;
  uri: string;
  body: string;
  meta: Record<string, string>;
}

export declare function encode(m: Partial<Message>): string;
export declare function decode(text: string): Message;

export declare class PlexError extends Error {
  code: number;
  reason: string;
  /**
   * The failed request may have been executed: the node answered 3008
   * (outcome unknown), or the request was written and its reply was lost.
   * Do not blindly retry it.
   */
  outcomeUnknown: boolean;
  /** outcomeUnknown defaults to code === Code.OUTCOME_UNKNOWN. */
  constructor(code: number, reason: string, outcomeUnknown?: boolean);
}

/** The body of /auth/success (docs/protocol.md §10.3). */
export interface AuthInfo {
  uid?: string;
  app?: string;
  conn: string;
  node: string;
  heartbeat_ms: number;
  timeout_ms: number;
  max_frame: number;
  acks?: boolean;
  /**
   * The seq the node replays after, when the login sent resume. Below the
   * lastSeq sent, the node's store never issued the app's seqs: the client
   * has set lastSeq to it (§12).
   */
  resume?: number;
}

/** docs/protocol.md §13.6 (before: 'authenticating' is now part of 'connecting', 'stopped' is 'closed'). */
export type State = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface Disconnect {
  code: number;
  reason: string;
  terminal: boolean;
  /** milliseconds until the next attempt; -1 when terminal */
  retryInMs: number;
}

export interface ClientOptions {
  url?: string;
  token: string | (() => string | Promise<string>);
  device?: string;
  acks?: boolean;
  lastSeq?: number;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  ackDelayMs?: number;
  /** A request's bound from the call, the wait for online included (§13.6). Default 10000. */
  requestTimeoutMs?: number;
  /** Requests that may wait for online at once; beyond, request() rejects at once. Default 1024. */
  maxWaitingRequests?: number;
  meta?: Record<string, string>;
  WebSocket?: typeof WebSocket;
  /** 'protobuf': binary messages (§7, §19.2). Default 'json'. */
  codec?: 'json' | 'protobuf';
  /** http(s)://node:port[/plex/v1/host]: asked before each attempt (§15); replaces url. */
  discoveryUrl?: string;
  fetch?: typeof fetch;
  /** The backoff's random source, uniform in [0, 1) (tests). */
  random?: () => number;
}

/** What Client.message sends: exactly one of to and room. */
export type MessageTo =
  | { to: string; room?: undefined; body?: string; conversation?: string }
  | { room: string; to?: undefined; body?: string; conversation?: string };

/** The node's /reply to /message (§8.1). */
export interface MessageResult {
  /** The message id; every recipient's copy carries it in meta id. */
  id: string;
  /** The recipient's seq; for a room, the sender's own copy's (0 when not a member). */
  seq: number;
  /** Connections it was written to (for a room, the sending one not counted). */
  delivered: number;
  /** A room only: the copies stored, one per member. */
  stored?: number;
}

export declare const BACKOFF: Readonly<{ MIN_MS: 500; MAX_MS: 30000; FLOOR_MS: 100; RESET_AFTER_MS: 10000 }>;
export declare function backoffDelay(attempt: number, b?: { initialMs?: number; maxMs?: number }, random?: () => number): number;
export declare class CodecError extends Error {
  code: 'bad_protobuf' | 'invalid_utf8';
}
export declare function encodeProtobuf(m: Partial<Omit<Message, 'body' | 'seq'>> & { body?: string | Uint8Array; seq?: number | bigint }): Uint8Array;
export declare function decodeProtobuf(data: ArrayBuffer | Uint8Array): Message & { seqBig: bigint; bodyBytes: Uint8Array };

export declare class Client {
  constructor(opts: ClientOptions);
  url: string;
  /**
   * The highest persistent seq delivered (dedup, ack and resume point);
   * persist it to resume across page loads. It goes down when a node
   * answers a resume point below it (its store never issued these seqs).
   */
  lastSeq: number;
  readonly state: State;
  readonly info: AuthInfo | null;
  on(event: 'state', fn: (state: State, detail?: unknown) => void): () => void;
  on(event: 'online', fn: (info: AuthInfo) => void): () => void;
  on(event: 'message', fn: (m: Message) => void): () => void;
  on(event: 'disconnect', fn: (d: Disconnect) => void): () => void;
  on(event: 'error', fn: (err: PlexError) => void): () => void;
  off(event: string, fn: (...args: any[]) => void): void;
  connect(): void;
  close(): void;
  /** Background mode (§11.1): a slower heartbeat once the node confirms it. */
  setBackground(on: boolean): void;
  readonly background: boolean;
  send(uri: string, body?: string, meta?: Record<string, string>): boolean;
  /**
   * Resolves with the request's /reply, rejects with a PlexError. Made while
   * connecting or reconnecting, it waits for online and is then written, in
   * the order made (§13.6); 'request timed out' after requestTimeoutMs: not
   * executed when never written, outcomeUnknown when written. Idle, closed,
   * or over maxWaitingRequests: rejects at once.
   */
  request(uri: string, body?: string, meta?: Record<string, string>): Promise<Message>;
  /**
   * /message to one user ({to}) or to a room's members ({room}) (§8.1):
   * resolves with the node's reply, rejects with a PlexError (its code, or
   * outcomeUnknown when the reply was lost). Waits for online as request()
   * does; sent again once after a draining node's /disconnect (§13.4).
   */
  message(m: MessageTo): Promise<MessageResult>;
  /** The node's VAPID public key (65 bytes); rejects with PlexError 4006 when Web Push is off. */
  webPushKey(): Promise<Uint8Array>;
  /** Subscribes to Web Push and registers the subscription with the node (docs/web.md). */
  subscribeWebPush(sw: ServiceWorkerRegistration | string | URL, opts?: { scope?: string }): Promise<PushSubscription>;
  /** Unregisters and unsubscribes; resolves false when there was no subscription. */
  unsubscribeWebPush(sw?: ServiceWorkerRegistration): Promise<boolean>;
}
