/**
 * The fields of every error the proxy makes itself. They are OpenAI's (`message`, `type`,
 * `param`, `code`); each API's descriptor puts them in its own envelope.
 */
export interface ErrorFields {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The OpenAI error shape. */
export interface OpenAiErrorBody {
  error: ErrorFields;
}

export function openAiError(message: string, type: string, code: string | null, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/** An error the proxy answers with itself (bad input, unknown model, bad key, ...). */
export class HttpError extends Error {
  readonly status: number;
  readonly body: OpenAiErrorBody;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, body: OpenAiErrorBody, headers?: Record<string, string>) {
    super(body.error.message);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export function invalidRequest(status: number, message: string, code: string | null, param: string | null = null): HttpError {
  return new HttpError(status, openAiError(message, 'invalid_request_error', code, param));
}
