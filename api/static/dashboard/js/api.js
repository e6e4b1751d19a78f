// The one way this page talks to evalql: POST {query, variables} to /graphql.
//
// A server with tokens answers HTTP 401 without a valid
// `Authorization: Bearer <token>`; the page then asks for the token once (a
// small form), keeps it in sessionStorage (this tab only, gone when it
// closes) and sends it with every request after.

const ROOT = document.querySelector('meta[name="evalql-root"]')?.content ?? "";
export const ENDPOINT = `${ROOT}/graphql`;
export const GRAPHIQL = `${ROOT}/graphql`;
const TOKEN_KEY = "evalql.token";

/** A GraphQL or HTTP error, with the server's message(s). */
export class ApiError extends Error {
  constructor(message, { errors = [], status = 0 } = {}) {
    super(message);
    this.name = "ApiError";
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code ?? null;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

let asking = null; // one token form at a time, shared by every panel waiting on it

function askToken(refused) {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const message = document.getElementById("token-message");
  if (refused) {
    message.textContent =
      "The server refused that token. Enter a bearer token with the read role; it is kept for this browser tab only.";
  }
  input.value = "";
  asking = new Promise((resolve, reject) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      asking = null;
      const value = input.value.trim();
      if (dialog.returnValue === "ok" && value) {
        sessionStorage.setItem(TOKEN_KEY, value);
        resolve(value);
      } else {
        reject(new ApiError("This server needs a bearer token (HTTP 401). Reload the page to enter one.", { status: 401 }));
      }
    };
    dialog.addEventListener("close", done);
    form.onsubmit = (event) => {
      dialog.returnValue = event.submitter?.value ?? "ok";
    };
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/**
 * Run one GraphQL document; resolves to its `data`, rejects with ApiError
 * carrying the server's messages (a GraphQL error is never a blank panel).
 */
export async function graphql(query, variables = {}, { signal } = {}) {
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const sent = token();
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(`Cannot reach the server at ${ENDPOINT}: ${error.message}`);
    }
    if (response.status === 401) {
      if (token() !== sent) continue; // another panel stored a token meanwhile
      if (sent) sessionStorage.removeItem(TOKEN_KEY);
      await askToken(Boolean(sent));
      continue;
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(`HTTP ${response.status} ${response.statusText}: the server did not answer with JSON`, {
        status: response.status,
      });
    }
    if (body.errors && body.errors.length) {
      const messages = [...new Set(body.errors.map((e) => e.message))];
      throw new ApiError(messages.join("\n"), { errors: body.errors, status: response.status });
    }
    if (!response.ok) throw new ApiError(`HTTP ${response.status} ${response.statusText}`, { status: response.status });
    return body.data;
  }
  throw new ApiError("The server kept refusing the token (HTTP 401).", { status: 401 });
}
