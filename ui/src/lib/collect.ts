// Live collection commands (issue 6): connection profiles, the simulated tenant, preflight, sign-in
// prompts and collection runs. Types: collectBindings.ts (generated from the engine). Every command
// rejects with an ErrorBody (collect.* codes; advice in errors.ts).

import { open } from "@tauri-apps/plugin-dialog";
import { call, onEvent, toErrorBody, type Unlisten } from "./backend";
import type {
  Check,
  CollectDefaults,
  CollectionOverview,
  CollectProgress,
  ConnectOptions,
  Profile,
  ProfileView,
  RunReport,
  SignInPrompt,
  SimulatedTenant,
  Source,
} from "./collectBindings";

export type SignInMethod = "browser" | "device-code" | "client-secret" | "certificate";

export const connectOptions = (): Promise<ConnectOptions> => call("connect_options");
export const profileList = (): Promise<ProfileView[]> => call("profile_list");
/** Saves a profile; `secret` (client secret or PFX password) goes to the keychain and is never sent back. */
export const profileSave = (profile: Profile, secret: string | null): Promise<ProfileView> => call("profile_save", { profile, secret });
export const profileRemove = (id: string): Promise<null> => call("profile_remove", { id });
/** Starts the simulated Microsoft 365 tenant inside the app and saves a profile for it. */
export const simulatedTenantStart = (method: SignInMethod): Promise<SimulatedTenant> => call("simulated_tenant_start", { method });
/** Checks sign-in, permissions and auditing per source; `sign-in` events arrive if someone must sign in. */
export const preflight = (profileId: string, sources: Source[] | null): Promise<Check[]> => call("preflight", { profileId, sources });
export const signInCancel = (): Promise<null> => call("sign_in_cancel");
export const collectDefaults = (profileId: string): Promise<CollectDefaults> => call("collect_defaults", { profileId });
/** Runs a collection; `collect-progress` events arrive after every page. */
export const collectStart = (profileId: string, fromMs: number, toMs: number, sources: Source[]): Promise<RunReport> =>
  call("collect_start", { profileId, fromMs, toMs, sources });
export const collectResume = (): Promise<RunReport> => call("collect_resume");
export const collectCancel = (): Promise<null> => call("collect_cancel");
export const collectionOverview = (): Promise<CollectionOverview> => call("collection_overview");

/** Open dialog for a certificate file (PEM with its key, or PFX). Null when the investigator cancels. */
export async function pickCertificate(): Promise<string | null> {
  try {
    const path = await open({
      title: "Choose the certificate (with its private key)",
      multiple: false,
      directory: false,
      filters: [
        { name: "Certificate with private key (.pem, .pfx, .p12)", extensions: ["pem", "pfx", "p12"] },
        { name: "All files", extensions: ["*"] },
      ],
    });
    return typeof path === "string" && path !== "" ? path : null;
  } catch (e) {
    throw toErrorBody(e);
  }
}

/** Subscribes to `sign-in`. Never throws. */
export const onSignIn = (cb: (p: SignInPrompt) => void): Unlisten => onEvent("sign-in", cb);

/** Subscribes to `collect-progress`. Never throws. */
export const onCollectProgress = (cb: (p: CollectProgress) => void): Unlisten => onEvent("collect-progress", cb);
