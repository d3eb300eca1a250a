import fc from 'fast-check';
import { AMOUNT_FRACTION_DIGITS, MAX_AMOUNT } from '../../../lib/model/amount';
import { deeplyNested, invalidUtf8String, Raw, serialise, withKey } from './json-text';

/**
 * Malformed and hostile requests for the HTTP API (local runtime and API Gateway functions alike).
 * Each request starts from a valid body and breaks exactly one thing, so the answer can be held to
 * naming that thing: the field (an issue at or under it) or, for damage to the body as a whole, a
 * word of the message. No generated request is acceptable, so every one must be refused with a 4xx
 * and must write nothing.
 */
export interface HostileRequest {
  /** What was broken, for failure messages. */
  label: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: string | Uint8Array;
  /** Sent as Content-Type when there is a body. */
  contentType: string;
  /** An issue of the answer names this field or one under it. */
  field?: string;
  /** The answer's message contains this (case-insensitive). */
  mention?: string;
  /** The exact status when the damage calls for one (413, 415); any 4xx otherwise. */
  status?: number;
}

type Kind = 'number' | 'int' | 'string' | 'boolean' | 'object';

interface FieldSpec {
  kind: Kind;
  min?: number;
  max?: number;
  nullable?: boolean;
  /** Most decimal places the field accepts (resource amounts: 6, lib/model/amount.ts). */
  decimals?: number;
  /** Strings that fail the field's own rules (pattern, length, enumeration). */
  bad?: fc.Arbitrary<string>;
}

interface MapSpec {
  /** Keys the map refuses. */
  badKeys: readonly string[];
  validValue: unknown;
}

/** A JSON body route described by what makes its bodies valid. */
export interface BodyRoute {
  method: 'POST' | 'PUT';
  path: string;
  valid: fc.Arbitrary<Record<string, unknown>>;
  fields: Record<string, FieldSpec>;
  required: readonly string[];
  /** Fields that hold string-keyed maps. */
  maps: Record<string, MapSpec>;
  /** A string field whose value is kept, where bytes that are not UTF-8 would otherwise be stored. */
  text: string;
  /** Whether `{}` is itself invalid (a missing required field) and an array body names its index. */
  acceptsArrays: boolean;
}

/** One broken thing: the body value and what the answer must name. */
export interface Damage {
  label: string;
  value: unknown;
  field?: string;
  mention?: string;
}

const ACCEPTED_TYPE = 'application/json';
export const MAX_BODY = 1024 * 1024;
const NESTING = 10_000;

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Tokens that are not JSON at all: the body as a whole is refused. */
const NOT_JSON_NUMBERS = [
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '01',
  '+1',
  '.5',
  '1.',
  '1e',
  '--1',
];
/** Valid JSON numbers that no bounded field accepts. */
const OVERFLOW_NUMBERS = [
  '1e999',
  '-1e999',
  '1e400',
  '179769313486231590000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
];

function wrongTypeFor(spec: FieldSpec): fc.Arbitrary<unknown> {
  const others: fc.Arbitrary<unknown>[] = [fc.constant([1, 'x'])];
  if (!spec.nullable) others.push(fc.constant(null));
  if (spec.kind !== 'object') others.push(fc.constant([]), fc.constant({}), fc.constant({ value: 1 }));
  if (spec.kind === 'number' || spec.kind === 'int') {
    others.push(fc.constantFrom('NaN', 'Infinity', '1', '', ' 1', '0x10'), fc.boolean());
  } else if (spec.kind === 'string') {
    others.push(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
  } else if (spec.kind === 'boolean') {
    others.push(fc.constantFrom('true', 'false', '', 'yes'), fc.constantFrom(0, 1));
  } else {
    others.push(fc.integer(), fc.string(), fc.boolean());
  }
  return fc.oneof(...others);
}

function badNumberFor(spec: FieldSpec): fc.Arbitrary<{ value: unknown; body: boolean }> {
  const min = spec.min ?? Number.NEGATIVE_INFINITY;
  const max = spec.max ?? Number.POSITIVE_INFINITY;
  const field = (a: fc.Arbitrary<unknown>) => a.map((value) => ({ value, body: false }));
  const options: fc.Arbitrary<{ value: unknown; body: boolean }>[] = [
    fc.constantFrom(...NOT_JSON_NUMBERS).map((t) => ({ value: new Raw(t), body: true })),
    field(fc.constantFrom(...OVERFLOW_NUMBERS).map((t) => new Raw(t))),
  ];
  if (Number.isFinite(min))
    options.push(
      field(fc.double({ min: -1e300, max: min - Math.max(1e-6, Math.abs(min) * 1e-9), noNaN: true })),
    );
  if (Number.isFinite(max)) options.push(field(fc.double({ min: max * 2 + 1, max: 1e300, noNaN: true })));
  if (spec.decimals !== undefined) {
    // In range, but one decimal place too many: 12.1234561 for 6. Below 1e8, where a double still
    // tells the seventh decimal apart.
    const extra = 10 ** -(spec.decimals + 1);
    const top = Math.min(Math.floor(max) - 1, 1e8);
    options.push(field(fc.integer({ min: Math.ceil(min), max: top }).map((n) => n + 0.123456 + extra)));
  }
  if (spec.kind === 'int') {
    const lo = Number.isFinite(min) ? min : -1000;
    const hi = Number.isFinite(max) ? Math.min(max, lo + 1e6) : lo + 1e6;
    options.push(field(fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) - 1 }).map((n) => n + 0.5)));
  }
  return fc.oneof(...options);
}

const unknownKey = (known: Record<string, unknown>) =>
  fc
    .oneof(
      fc.constantFrom(
        ...PROTO_KEYS,
        'toString',
        'valueOf',
        'hasOwnProperty',
        'colour',
        'CPU',
        'Id',
        'DEADLINE',
      ),
      fc.stringMatching(/^[A-Za-z_$][\w$-]{0,15}$/),
    )
    .filter((k) => !Object.hasOwn(known, k) || PROTO_KEYS.includes(k as never));

/** One valid body broken in one way. */
export function damage(route: BodyRoute): fc.Arbitrary<Damage> {
  const names = Object.keys(route.fields);
  const set = (base: Record<string, unknown>, key: string, value: unknown) => withKey(base, key, value);
  const options: fc.Arbitrary<Damage>[] = [];

  options.push(
    fc.tuple(route.valid, fc.constantFrom(...names)).chain(([base, name]) =>
      wrongTypeFor(route.fields[name]!).map((value) => ({
        label: `${name} of the wrong type (${JSON.stringify(value)})`,
        value: set(base, name, value),
        field: name,
      })),
    ),
  );

  const numeric = names.filter((n) => ['number', 'int'].includes(route.fields[n]!.kind));
  if (numeric.length > 0) {
    options.push(
      fc.tuple(route.valid, fc.constantFrom(...numeric)).chain(([base, name]) =>
        badNumberFor(route.fields[name]!).map(({ value, body }) => ({
          label: `${name} = ${value instanceof Raw ? String(value.text) : String(value)}`,
          value: set(base, name, value),
          ...(body ? { field: '', mention: 'JSON' } : { field: name }),
        })),
      ),
    );
  }

  const withBad = names.filter((n) => route.fields[n]!.bad);
  if (withBad.length > 0) {
    options.push(
      fc.tuple(route.valid, fc.constantFrom(...withBad)).chain(([base, name]) =>
        route.fields[name]!.bad!.map((value) => ({
          label: `${name} = ${JSON.stringify(value).slice(0, 60)}`,
          value: set(base, name, value),
          field: name,
        })),
      ),
    );
  }

  if (route.required.length > 0) {
    options.push(
      fc.tuple(route.valid, fc.constantFrom(...route.required)).map(([base, name]) => {
        const { [name]: _gone, ...rest } = base;
        return { label: `without ${name}`, value: rest, field: name };
      }),
    );
  }

  options.push(
    fc
      .tuple(route.valid, unknownKey(route.fields), fc.jsonValue({ maxDepth: 2 }))
      .map(([base, key, value]) => ({
        label: `unknown key ${key}`,
        value: set(base, key, value),
        mention: key,
      })),
  );

  const maps = Object.keys(route.maps);
  if (maps.length > 0) {
    options.push(
      fc.tuple(route.valid, fc.constantFrom(...maps)).chain(([base, name]) => {
        const spec = route.maps[name]!;
        return fc.constantFrom(...spec.badKeys).map((key) => ({
          label: `${name} with the key ${JSON.stringify(key)}`,
          value: set(base, name, withKey({}, key, spec.validValue)),
          field: name,
        }));
      }),
    );
  }

  options.push(
    fc
      .tuple(route.valid, fc.constantFrom(...names), fc.constantFrom<'array' | 'object'>('array', 'object'))
      .map(([base, name, kind]) => ({
        label: `${name} nested ${NESTING} ${kind}s deep`,
        value: set(base, name, deeplyNested(NESTING, kind)),
        field: name,
      })),
  );

  options.push(
    fc
      .tuple(
        route.valid,
        fc.constantFrom(
          [0xff],
          [0xfe, 0xff],
          [0xc3, 0x28],
          [0xed, 0xa0, 0x80],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
          [0xe2, 0x82],
          [0xc0, 0xaf],
        ),
      )
      .map(([base, bytes]) => ({
        label: `${route.text} holding the bytes ${bytes.map((b) => b.toString(16)).join(' ')}`,
        value: set(base, route.text, invalidUtf8String('a', bytes)),
        field: '',
        mention: 'UTF-8',
      })),
  );

  return fc.oneof(...options);
}

function request(route: BodyRoute, d: Damage): HostileRequest {
  return {
    label: `${route.method} ${route.path}: ${d.label}`,
    method: route.method,
    path: route.path,
    body: serialise(d.value),
    contentType: ACCEPTED_TYPE,
    ...(d.field === undefined ? {} : { field: d.field }),
    ...(d.mention === undefined ? {} : { mention: d.mention }),
  };
}

/** Damage to the body as a whole rather than to a field. */
function wholeBody(route: BodyRoute): fc.Arbitrary<HostileRequest> {
  const base = { method: route.method, path: route.path } as const;
  const label = (what: string) => `${route.method} ${route.path}: ${what}`;
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          route.valid,
          fc.constantFrom(
            'text/plain',
            'text/plain;charset=UTF-8',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/xml',
            'application/octet-stream',
            'application/jsonx',
            'json',
            'text/json5',
          ),
        )
        .map(
          ([valid, type]): HostileRequest => ({
            ...base,
            label: label(`a valid body sent as ${type}`),
            body: JSON.stringify(valid),
            contentType: type,
            status: 415,
            mention: 'content type',
          }),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          '',
          ' ',
          '\n',
          'null',
          '1',
          '"x"',
          'true',
          '{',
          '}',
          '[',
          '{"a":',
          "{'a':1}",
          '{"a":1,}',
          '\u0000',
          '\uFEFF{}',
        )
        .map(
          (text): HostileRequest => ({
            ...base,
            label: label(`the body ${JSON.stringify(text)}`),
            body: text,
            contentType: ACCEPTED_TYPE,
            field: '',
          }),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(route.valid, fc.integer({ min: 1, max: 4096 })).map(
        ([valid, extra]): HostileRequest => ({
          ...base,
          label: label(`a body of ${MAX_BODY + extra} bytes`),
          body: JSON.stringify({ ...valid, [route.text]: 'x'.repeat(MAX_BODY + extra) }),
          contentType: ACCEPTED_TYPE,
          status: 413,
          mention: 'bytes',
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<'array' | 'object'>('array', 'object').map(
        (kind): HostileRequest => ({
          ...base,
          label: label(`a body nested ${NESTING} ${kind}s deep`),
          body: serialise(deeplyNested(NESTING, kind)),
          contentType: ACCEPTED_TYPE,
          field: kind === 'array' && route.acceptsArrays ? '0' : '',
        }),
      ),
    },
  );
}

const numberField = (
  min: number,
  max: number,
  kind: 'number' | 'int' = 'number',
  extra: Partial<FieldSpec> = {},
): FieldSpec => ({ kind, min, max, ...extra });

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const badIds = fc.oneof(
  fc.string({ minLength: 129, maxLength: 300, unit: fc.constantFrom('a', 'b', '1') }),
  fc.constantFrom(
    '',
    ' ',
    '-lead',
    '.lead',
    'has space',
    'tab\t',
    'new\nline',
    'ünï',
    'a#b',
    'a?b',
    'a%b',
    'a\u0000b',
    '🙂',
  ),
  fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }).filter((s) => !ID_PATTERN.test(s)),
);

/** A valid task; `now` in epoch seconds keeps deadlines in the future. */
export function validTask(now: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    id: fc.stringMatching(/^fz-[a-z0-9]{1,20}$/),
    cpu: fc.integer({ min: 1, max: 1000 }),
    mem: fc.integer({ min: 0, max: 4096 }),
    io: fc.integer({ min: 0, max: 100 }),
    bw: fc.integer({ min: 0, max: 100 }),
    deadline: fc.integer({ min: now + 3600, max: now + 86_400 }),
    duration: fc.integer({ min: 1, max: 36_000 }),
    command: fc.stringMatching(/^[a-z ]{1,20}$/),
  });
}

const labelBadKeys = ['__proto__', '', ' ', '.dot', '-dash', 'a'.repeat(64), 'ünï', 'a b'] as const;

export function taskRoute(now: number): BodyRoute {
  return {
    method: 'POST',
    path: '/tasks',
    valid: validTask(now),
    fields: {
      id: { kind: 'string', bad: badIds },
      cpu: numberField(0, MAX_AMOUNT, 'number', { decimals: AMOUNT_FRACTION_DIGITS }),
      mem: numberField(0, MAX_AMOUNT, 'number', { decimals: AMOUNT_FRACTION_DIGITS }),
      io: numberField(0, MAX_AMOUNT, 'number', { decimals: AMOUNT_FRACTION_DIGITS }),
      bw: numberField(0, MAX_AMOUNT, 'number', { decimals: AMOUNT_FRACTION_DIGITS }),
      deadline: numberField(0, 1e11),
      duration: numberField(Number.MIN_VALUE, 31_536_000),
      priority: numberField(-1000, 1000, 'int'),
      labels: { kind: 'object' },
      constraints: { kind: 'object' },
      command: { kind: 'string', bad: fc.constantFrom('', 'x'.repeat(4097)) },
    },
    required: ['deadline', 'duration'],
    maps: {
      labels: { badKeys: labelBadKeys, validValue: 'v' },
      constraints: { badKeys: labelBadKeys, validValue: 'v' },
    },
    text: 'command',
    acceptsArrays: true,
  };
}

export function algorithmRoute(algorithms: readonly string[]): BodyRoute {
  return {
    method: 'PUT',
    path: '/config/algorithm',
    valid: fc.record({ algorithm: fc.constantFrom(...algorithms) }),
    fields: {
      algorithm: {
        kind: 'string',
        bad: fc
          .oneof(
            fc.constantFrom(
              '',
              ' ',
              'RoundRobin',
              'ROUND-ROBIN',
              'least connections',
              '__proto__',
              'constructor',
              'toString',
            ),
            fc.string({ maxLength: 30 }),
          )
          .filter((s) => !algorithms.includes(s)),
      },
      params: { kind: 'object' },
    },
    required: ['algorithm'],
    maps: {},
    text: 'algorithm',
    acceptsArrays: false,
  };
}

export const generatorRoute: BodyRoute = {
  method: 'POST',
  path: '/generator',
  // Only values that leave a stopped generator stopped: an accepted body must not start writing.
  valid: fc.record({
    running: fc.constant(false),
    rate: fc.integer({ min: 0, max: 100 }),
    size: fc.constantFrom('small', 'mixed', 'large'),
  }),
  fields: {
    running: { kind: 'boolean' },
    rate: numberField(0, 100_000),
    count: numberField(1, 100_000_000, 'int', { nullable: true }),
    duration_s: { kind: 'object' },
    deadline_slack_s: { kind: 'object' },
    size: { kind: 'string', bad: fc.constantFrom('', 'tiny', 'SMALL', 'huge', '__proto__') },
  },
  required: [],
  maps: {},
  text: 'size',
  acceptsArrays: false,
};

export const fleetRoute: BodyRoute = {
  method: 'POST',
  path: '/fleet/vms',
  valid: fc.record({ count: fc.integer({ min: 1, max: 3 }), labels: fc.constant({ zone: 'a' }) }),
  fields: {
    count: numberField(1, 1000, 'int'),
    capacity: { kind: 'object' },
    labels: { kind: 'object' },
  },
  required: [],
  maps: {
    labels: { badKeys: labelBadKeys, validValue: 'v' },
    capacity: { badKeys: ['__proto__', 'gpu', 'CPU', ''], validValue: 1 },
  },
  text: 'labels',
  acceptsArrays: false,
};

/** Hostile requests to one JSON body route. */
export function hostileBodyRequests(route: BodyRoute): fc.Arbitrary<HostileRequest> {
  return fc.oneof(
    { weight: 6, arbitrary: damage(route).map((d) => request(route, d)) },
    { weight: 2, arbitrary: wholeBody(route) },
  );
}

/**
 * POST /tasks bodies that are arrays: over the limit, a broken task among valid ones. One id twice
 * with different bodies is not here: the documented contract (enqueue and local intake alike) keeps
 * the first and reports the id as a duplicate, which the fuzz tests check on their own.
 */
export function hostileTaskArrays(now: number): fc.Arbitrary<HostileRequest> {
  const route = taskRoute(now);
  const post = (label: string, value: unknown, field: string, mention?: string): HostileRequest => ({
    label: `POST /tasks: ${label}`,
    method: 'POST',
    path: '/tasks',
    body: serialise(value),
    contentType: ACCEPTED_TYPE,
    field,
    ...(mention === undefined ? {} : { mention }),
  });
  const distinct = (n: number) =>
    fc.uniqueArray(validTask(now), { minLength: n, maxLength: n, selector: (t) => t.id });
  return fc.oneof(
    fc.integer({ min: 1001, max: 1010 }).map((n) =>
      post(
        `${n} tasks`,
        Array.from({ length: n }, (_, i) => ({ id: `fz-${i}`, cpu: 1, deadline: now + 3600, duration: 1 })),
        '',
        '1000',
      ),
    ),
    fc.tuple(distinct(3), damage(route), fc.integer({ min: 0, max: 3 })).map(([valid, d, at]) => {
      const tasks: unknown[] = [...valid];
      tasks.splice(at, 0, d.value);
      const field =
        d.field === undefined || d.field === ''
          ? d.mention === 'JSON' || d.mention === 'UTF-8'
            ? ''
            : String(at)
          : `${at}.${d.field}`;
      return post(`task ${at} of ${tasks.length}: ${d.label}`, tasks, field, d.mention);
    }),
  );
}

/** Path segments a task or transaction id route refuses; never "." or ".." (fetch would resolve them away). */
const hostileIdSegment = fc
  .oneof(
    badIds.filter((s) => s !== '' && !s.includes('/')).map((s) => encodeURIComponent(s)),
    fc.constantFrom('%E0%A4%A', '%FF', '%C3%28', '%00', '%', '%%', '%2', 'a%ZZ', '%F0%9F%98'),
  )
  .filter((s) => s !== '.' && s !== '..' && s !== '%2E' && s !== '%2E%2E');

export const hostileTaskLookups: fc.Arbitrary<HostileRequest> = hostileIdSegment.map((segment) => ({
  label: `GET /tasks/${segment}`,
  method: 'GET',
  path: `/tasks/${segment}`,
  contentType: ACCEPTED_TYPE,
  field: 'id',
}));

export const hostileCompletions: fc.Arbitrary<HostileRequest> = hostileIdSegment.map((segment) => ({
  label: `POST /tasks/${segment}/complete`,
  method: 'POST',
  path: `/tasks/${segment}/complete`,
  contentType: ACCEPTED_TYPE,
  field: 'id',
}));

export const hostileTransactionLookups: fc.Arbitrary<HostileRequest> = hostileIdSegment
  // The transaction pattern also accepts ids that start with "." or "-".
  .filter((s) => !/^[A-Za-z0-9._:@/-]{1,128}$/.test(safeDecode(s)))
  .map((segment) => ({
    label: `GET /ledger/transactions/${segment}`,
    method: 'GET',
    path: `/ledger/transactions/${segment}`,
    contentType: ACCEPTED_TYPE,
    field: 'id',
  }));

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const BAD_COUNTS = [
  '-1',
  '-0.5',
  '1.5',
  'abc',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '',
  ' ',
  '0x10',
  '1e3',
  '+1',
  'null',
  'true',
  '[]',
  '9'.repeat(400),
  '١',
  '1_000',
  '1,2',
];

export const hostileBlockQueries: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc
    .tuple(fc.constantFrom('from', 'limit'), fc.constantFrom(...BAD_COUNTS, '0', '101', '100000'))
    .filter(([name, v]) => !(name === 'from' && ['0', '101', '100000'].includes(v)))
    .map(([name, value]) => ({
      label: `GET /ledger/blocks?${name}=${value}`,
      method: 'GET' as const,
      path: `/ledger/blocks?${name}=${encodeURIComponent(value)}`,
      contentType: ACCEPTED_TYPE,
      field: name,
    })),
  fc.constantFrom('to', 'page', '__proto__', 'constructor', 'FROM', 'offset').map((name) => ({
    label: `GET /ledger/blocks?${name}=1`,
    method: 'GET' as const,
    path: `/ledger/blocks?${name}=1`,
    contentType: ACCEPTED_TYPE,
    mention: name,
  })),
);

/** Every hostile request the API must refuse. */
export function hostileRequests(now: number, algorithms: readonly string[]): fc.Arbitrary<HostileRequest> {
  return fc.oneof(
    { weight: 4, arbitrary: hostileBodyRequests(taskRoute(now)) },
    { weight: 2, arbitrary: hostileTaskArrays(now) },
    { weight: 2, arbitrary: hostileBodyRequests(algorithmRoute(algorithms)) },
    { weight: 2, arbitrary: hostileBodyRequests(generatorRoute) },
    { weight: 2, arbitrary: hostileBodyRequests(fleetRoute) },
    { weight: 1, arbitrary: hostileTaskLookups },
    { weight: 1, arbitrary: hostileCompletions },
    { weight: 1, arbitrary: hostileTransactionLookups },
    { weight: 1, arbitrary: hostileBlockQueries },
  );
}

/** What a refusal must look like; returns the problems found (empty when it is right). */
export function judge(request: HostileRequest, status: number, body: unknown): string[] {
  const problems: string[] = [];
  if (request.status !== undefined ? status !== request.status : status < 400 || status > 499) {
    problems.push(`status ${status}, expected ${request.status ?? '4xx'}`);
  }
  if (typeof body !== 'object' || body === null)
    return [...problems, `body is not a JSON object: ${String(body)}`];
  const { error, message, issues } = body as { error?: unknown; message?: unknown; issues?: unknown };
  if (typeof error !== 'string' || typeof message !== 'string' || message === '') {
    problems.push(`no error and message in ${JSON.stringify(body).slice(0, 200)}`);
    return problems;
  }
  if (request.field !== undefined) {
    const fields = Array.isArray(issues) ? issues.map((i: { field?: unknown }) => i.field) : [];
    const f = request.field;
    const named = fields.some((x) => typeof x === 'string' && (x === f || f === '' || x.startsWith(`${f}.`)));
    if (!named) problems.push(`issues ${JSON.stringify(fields).slice(0, 200)} do not name "${f}"`);
    // Clients that show only the message must see the field too.
    if (f !== '' && !message.includes(f))
      problems.push(`message ${JSON.stringify(message.slice(0, 300))} does not name "${f}"`);
  }
  if (request.mention !== undefined && !message.toLowerCase().includes(request.mention.toLowerCase())) {
    problems.push(`message ${JSON.stringify(message.slice(0, 300))} does not mention ${request.mention}`);
  }
  return problems;
}
