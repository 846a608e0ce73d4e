// The message helper every extension ↔ webview protocol module declares its messages with (previewWebview.ts,
// progressWebview.ts, chatWebview.ts, evalWebview.ts): a literal `type`, a typed `create` and an `is` guard, so
// neither side matches bare strings. Pure, no runtime dependencies: the webview bundles import it too.

export interface MessageKind<T extends string, P> {
    readonly type: T;
    create(payload: P): { type: T; payload: P };
    is(message: unknown): message is { type: T; payload: P };
}

/** `defineMessage<Payload>()("literal-type")`: curried so the payload is explicit and the type is inferred. */
export function defineMessage<P>() {
    return <T extends string>(type: T): MessageKind<T, P> => ({
        type,
        create: (payload: P) => ({ type, payload }),
        is: (message: unknown): message is { type: T; payload: P } =>
            typeof message === "object" && message !== null && (message as { type?: unknown }).type === type
    });
}
