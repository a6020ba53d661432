// A file a preset's platform needs installed (3CX's CRM template), offered
// for download beside the preset's notes.
import type { PresetTemplate } from "../../api/types";

export function TemplateDownload({ template }: { template?: PresetTemplate | null }) {
  if (!template) return null;
  const href = `data:${template.media_type};charset=utf-8,${encodeURIComponent(template.text)}`;
  return (
    <p>
      <a href={href} download={template.file_name} data-testid="preset-template">
        Download {template.file_name}
      </a>
    </p>
  );
}
