// Powertools logger shared by every function. It logs ids and codes only: handlers never pass
// message content, addresses or tokens to it.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'mail2ticket' });
