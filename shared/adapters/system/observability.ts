// Powertools logger shared by every function. It logs ids and codes only: handlers never pass
// message content, addresses or tokens to it. Outside Lambda (the CLI and `npm start` run the same
// handlers) stdout belongs to the command's output, so it stays silent unless asked with
// POWERTOOLS_LOG_LEVEL.
import { Logger } from '@aws-lambda-powertools/logger';

const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'mail2ticket',
  ...(inLambda || process.env.POWERTOOLS_LOG_LEVEL ? {} : { logLevel: 'SILENT' as const }),
});
