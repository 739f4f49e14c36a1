/** MCP content as text for a terminal: tool results, prompt messages, resource contents. */
import type { CallToolResult, GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';

type ContentBlock = CallToolResult['content'][number];

export function renderBlock(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${Buffer.from(block.data, 'base64').length} bytes]`;
    case 'resource':
      return 'text' in block.resource ? String(block.resource.text) : `[resource ${block.resource.uri}]`;
    case 'resource_link':
      return `[resource link ${block.uri}]`;
    default:
      return JSON.stringify(block);
  }
}

export function renderToolResult(result: CallToolResult): string {
  const parts = (result.content ?? []).map(renderBlock);
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent, null, 2);
  return parts.join('\n');
}

/** Each message under its role: `[user]`, then its text. */
export function renderPrompt(result: GetPromptResult, heading: (role: string) => string): string {
  return result.messages.map((message) => `${heading(`[${message.role}]`)}\n${renderBlock(message.content as ContentBlock)}`).join('\n\n');
}

/** Text contents as they are; a binary one as its type and size. Several are separated by their URIs. */
export function renderResource(result: ReadResourceResult, heading: (uri: string) => string): string {
  const several = result.contents.length > 1;
  return result.contents
    .map((content) => {
      const body = 'text' in content && typeof content.text === 'string' ? content.text : `[blob ${content.mimeType ?? 'application/octet-stream'}, ${Buffer.from(String((content as { blob?: string }).blob ?? ''), 'base64').length} bytes]`;
      return several ? `${heading(content.uri)}\n${body}` : body;
    })
    .join('\n\n');
}

/** `text` ending in exactly one newline (none added to an empty text). */
export function asLines(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
