import type { CallOptions, EvalGuard } from "../client.js";
import type { ApiKey, ApiKeyCreated, Role } from "../types.js";

/** `/api/v1/keys`: the organization's API keys (role admin, organization-wide keys only). */
export class Keys {
  readonly #client: EvalGuard;

  constructor(client: EvalGuard) {
    this.#client = client;
  }

  /** A new key; its secret (`key`) is shown this once. */
  create(
    params: { role: Role; project_id?: string | null; name?: string | null },
    options: CallOptions = {},
  ): Promise<ApiKeyCreated> {
    return this.#client.request<ApiKeyCreated>({ ...options, method: "POST", path: "/api/v1/keys", body: params });
  }

  /** Every key of the organization, without secrets. */
  async list(options: CallOptions = {}): Promise<ApiKey[]> {
    const page = await this.#client.request<{ data: ApiKey[] }>({ ...options, method: "GET", path: "/api/v1/keys" });
    return page.data;
  }

  /** Revokes a key by its public id; revoking a revoked key answers it unchanged. */
  revoke(keyId: string, options: CallOptions = {}): Promise<ApiKey> {
    return this.#client.request<ApiKey>({
      ...options,
      method: "DELETE",
      path: `/api/v1/keys/${encodeURIComponent(keyId)}`,
    });
  }
}
