import { ValidationError } from '../lib/errors';
import {
  type Assignment,
  type AssignmentSource,
  PermanentError,
  type PollRequest,
} from '../lib/ports/assignment-source';
import { assignmentsAnswer } from '../lib/schemas/client';
import { fromFeedItem } from './assignment';
import type { AgentHttp } from './http';

/** Time on top of the long poll before a request counts as lost. */
const POLL_SLACK_MS = 10_000;

/** The local runtime's feed: GET /vms/{id}/assignments?since=&wait= (a long poll). */
export class HttpPollSource implements AssignmentSource {
  constructor(
    private readonly http: AgentHttp,
    private readonly vmId: string,
  ) {}

  async poll({ since, waitS, signal }: PollRequest): Promise<Assignment[]> {
    const query = new URLSearchParams({ wait: String(waitS) });
    if (since >= 0) query.set('since', String(since));
    const { body } = await this.http.json(
      'GET',
      `vms/${encodeURIComponent(this.vmId)}/assignments?${query}`,
      {
        signal,
        timeoutMs: waitS * 1000 + POLL_SLACK_MS,
      },
    );
    const parsed = assignmentsAnswer.safeParse(body);
    if (!parsed.success) {
      const issues = ValidationError.fromZod(parsed.error, 'unexpected feed answer').message;
      throw new PermanentError(issues);
    }
    if (parsed.data.managed !== 'agent') {
      throw new PermanentError(
        `VM ${this.vmId} is managed by the ${parsed.data.managed}, not an agent; add it with "managed": "agent"`,
      );
    }
    return parsed.data.assignments.map(fromFeedItem);
  }
}
