/**
 * POST /visits/{page}: adds one to the page's visit count and answers the new count.
 * The table's name comes in VISITS_TABLE (RegionalApi sets it from `tableEnvVars`).
 */
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";

const PAGE = /^[A-Za-z0-9._-]{1,128}$/;
const client = new DynamoDBClient({});

interface Event {
  readonly pathParameters?: Record<string, string | undefined> | null;
}

interface Response {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function answer(statusCode: number, body: unknown): Response {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export async function handler(event: Event): Promise<Response> {
  const page = event.pathParameters?.["page"];
  if (page === undefined || !PAGE.test(page)) {
    return answer(400, {
      error: "page must be 1-128 letters, digits, dots, dashes or underscores",
    });
  }
  const result = await client.send(
    new UpdateItemCommand({
      TableName: process.env["VISITS_TABLE"],
      Key: { Page: { S: page } },
      UpdateExpression: "ADD Visits :one",
      ExpressionAttributeValues: { ":one": { N: "1" } },
      ReturnValues: "UPDATED_NEW",
    }),
  );
  return answer(200, { page, visits: Number(result.Attributes?.["Visits"]?.N ?? "0") });
}
