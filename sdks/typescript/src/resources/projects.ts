import type { CallOptions, EvalGuard } from "../client.js";
import { PageIterator } from "../pagination.js";
import type { Page, Project } from "../types.js";

/** `/api/v1/projects`. */
export class Projects {
  readonly #client: EvalGuard;

  constructor(client: EvalGuard) {
    this.#client = client;
  }

  /** Creates a project (role admin); a taken id is a `ConflictError`. */
  create(params: { id: string; name?: string }, options: CallOptions = {}): Promise<Project> {
    return this.#client.request<Project>({ ...options, method: "POST", path: "/api/v1/projects", body: params });
  }

  get(projectId: string, options: CallOptions = {}): Promise<Project> {
    return this.#client.request<Project>({
      ...options,
      method: "GET",
      path: `/api/v1/projects/${encodeURIComponent(projectId)}`,
    });
  }

  /** Every project the key can see, page after page. */
  list(params: { limit?: number } = {}, options: CallOptions = {}): PageIterator<Project> {
    return new PageIterator((cursor) =>
      this.#client.request<Page<Project>>({
        ...options,
        method: "GET",
        path: "/api/v1/projects",
        query: { limit: params.limit, cursor },
      }),
    );
  }
}
