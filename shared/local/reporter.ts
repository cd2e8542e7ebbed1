// What npm start tells the person watching its terminal: progress on stdout, trouble on stderr. One
// line each, ids and outcomes only (never message content or tokens).
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
}

export const consoleReporter: Reporter = {
  info: (line) => void process.stdout.write(`${line}\n`),
  warn: (line) => void process.stderr.write(`${line}\n`),
};
