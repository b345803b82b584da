import type { ErrorCode } from "./bindings";

/** What the investigator can do about an error, by code. The backend's `message` says what happened. */
export function errorAdvice(code: ErrorCode): string {
  switch (code) {
    case "case.not_found":
      return "Check that the drive or folder that holds the case is available, then choose the file again with “Open case…”.";
    case "case.not_a_case":
      return "Choose a file that ends in .tidemark and was made by Tidemark.";
    case "case.newer_schema":
      return "Install the newest Tidemark to open this case. The case file was not changed.";
    case "case.exists":
      return "Choose another name or folder, or open the existing case with “Open case…”.";
    case "case.none_open":
      return "Open a case first, then try again.";
    case "import.unreadable":
      return "Check that the file still exists and that you may read it, then import it again. Nothing from this file was added.";
    case "import.unknown_format":
      return "Check that you chose the audit log export itself (not a report or a spreadsheet re-saved from it). Remove that file from the selection and import again; nothing was added to the case.";
    case "import.cancelled":
      return "Import the same files again to add the rest: records already in the case are recognised and not counted twice.";
    case "query.invalid":
      return "Change the search and try again. Press “?” next to the search box for the syntax.";
    case "query.superseded":
      return "Nothing to do: a newer search took its place.";
    case "event.not_found":
      return "The event is no longer in this case. Run the search again.";
    case "export.failed":
      return "Check that the folder exists and has free space, then export again.";
    case "export.cancelled":
      return "Nothing was written. Export again when you are ready.";
    case "export.invalid":
      return "Change the export settings (columns, time zone or scope) and try again.";
    case "case.busy":
      return "An import or collection is writing to this case. Wait until it finishes, then try again.";
    case "tag.exists":
      return "Choose another name, or use the existing tag.";
    case "tag.not_found":
      return "The tag was removed meanwhile. Refresh the tag list and try again.";
    case "note.not_found":
      return "The note was removed meanwhile. Refresh the notes and try again.";
    case "saved_search.exists":
      return "Choose another name for the saved search, or rename the existing one.";
    case "saved_search.not_found":
      return "The saved search was removed meanwhile. Refresh the list and try again.";
    case "annotation.invalid":
      return "Change what you typed (name, colour or note) and try again.";
    case "collect.keychain_unavailable":
      return "Unlock this computer's keychain (on Linux: log in to the desktop so GNOME Keyring or KWallet runs), then try again. Tidemark keeps sign-in secrets only there.";
    case "collect.profile_invalid":
      return "Open “Connect a tenant…” and correct the connection: tenant, client id, sign-in method and sources.";
    case "collect.sign_in_failed":
      return "Check the tenant, the client id and the secret or certificate with the tenant's admin; the details below say what Microsoft answered.";
    case "collect.sign_in_cancelled":
      return "Sign in again when you are ready. Nothing was collected.";
    case "collect.sign_in_timeout":
      return "Start the sign-in again and finish it in your browser (or on the other device) within a few minutes.";
    case "collect.permission_missing":
      return "Ask the tenant's admin to grant the permission named above to the app registration and to give admin consent, then test the connection again.";
    case "collect.auditing_off":
      return "Ask the tenant's admin to turn on auditing in Microsoft Purview. Events from before it was on cannot be collected.";
    case "collect.outside_retention":
      return "Choose a start date inside what the source keeps, or use another source (Graph audit search reaches back further).";
    case "collect.throttled":
      return "Microsoft is limiting requests. Wait a few minutes and press Resume: what was collected stays.";
    case "collect.server_unavailable":
      return "Microsoft's service kept failing. Wait a few minutes and press Resume: what was collected stays.";
    case "collect.network":
      return "Check the network connection (and any proxy or VPN), then press Resume.";
    case "collect.bad_response":
      return "Press Resume to try again. If it persists, the details below help to report it.";
    case "collect.refused":
      return "The tenant refused the request; the details below say why. Check the connection's settings with the tenant's admin.";
    case "collect.activities_disabled":
      return "Microsoft disabled the Outlook Activities API in July 2018. Collect from the Management Activity API and the Graph audit search instead.";
    case "collect.query_failed":
      return "The audit search kept failing for this time window. Press Resume to try it again, or collect a shorter range.";
    case "collect.cancelled":
      return "What was collected is kept. Press Resume to continue where it stopped.";
    case "collect.case":
      return "Check that the disk is not full and the case file is on a connected drive, then press Resume.";
    case "collect.nothing_to_resume":
      return "Every collection in this case finished. Start a new collection instead.";
    case "collect.busy":
      return "Wait until the running collection or sign-in finishes, or stop it first.";
    case "io":
      return "Check that the disk is not full and the case file is not on a disconnected drive, then try again.";
    case "internal":
      return "This is a fault in Tidemark, not in your data. The technical details below help to fix it.";
  }
}

/** What to do when "Show in folder" fails (the file was moved or deleted, or no file manager opened). */
export const REVEAL_ADVICE =
  "The full path is shown here: open that folder in your file manager yourself (you can copy the path), or export again if the file was moved or deleted.";
