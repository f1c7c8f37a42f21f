/** The app-image part of command results: summary fields plus the verification outcome. */
import { checkAppImage, parseAppHeader, revText, type AppInfo, type VerifyOptions } from '../image/index.js';

export interface AppSummary {
  version: string;
  projectName: string;
  secureVersion: number;
  chip: string;
  chipId: number;
  chipRevRange: string;
  idfVer: string;
  date: string;
  time: string;
  elfSha256: string;
  segments?: number;
  sha256?: string;
}

export interface AppReport {
  verified: boolean;
  /** Present when verification failed: the first failed check and where. */
  check?: string;
  offset?: number;
  problem?: string;
  /** Header fields, when at least the header and app description could be read. */
  app?: AppSummary;
}

export function appSummary(info: AppInfo): AppSummary {
  const max = info.maxChipRevFull === 0 || info.maxChipRevFull === 0xffff ? 'any' : revText(info.maxChipRevFull);
  return {
    version: info.desc.version,
    projectName: info.desc.projectName,
    secureVersion: info.desc.secureVersion,
    chip: info.chipName,
    chipId: info.chipId,
    chipRevRange: `${revText(info.minChipRevFull)} .. ${max}`,
    idfVer: info.desc.idfVer,
    date: info.desc.date,
    time: info.desc.time,
    elfSha256: info.desc.elfSha256,
  };
}

export function appReport(image: Uint8Array, opts: VerifyOptions = {}): AppReport {
  const c = checkAppImage(image, opts);
  if (c.ok) return { verified: true, app: { ...appSummary(c.info), segments: c.info.segments.length, sha256: c.info.sha256 } };
  let app: AppSummary | undefined;
  try {
    app = appSummary(parseAppHeader(image));
  } catch {
    // header or description unreadable: report only the failure
  }
  return { verified: false, check: c.check, offset: c.offset, problem: c.error.message, ...(app ? { app } : {}) };
}

export function appOneLine(r: AppReport): string {
  const a = r.app;
  const what = a ? `${a.projectName} ${a.version}, secure_version ${a.secureVersion}, ${a.chip} ${a.chipRevRange}` : 'app image';
  return r.verified ? `${what} (verified)` : `${what}: NOT VALID: ${r.problem ?? '?'}`;
}
