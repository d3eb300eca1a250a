export type Level = 'debug' | 'info' | 'warn' | 'error';

/** One structured line per event: `{"time","level","msg",...fields}`. */
export type AgentLog = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

/** JSON Lines on a stream (stderr by default, so stdout stays free for a summary). */
export function jsonLog(write: (line: string) => void = (line) => process.stderr.write(line)): AgentLog {
  return (level, msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}
