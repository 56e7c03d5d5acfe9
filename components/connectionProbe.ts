// The workload an app runs until it names an image of its own: a connection probe built only from a stock
// PostgreSQL client image. Every minute it swaps the pod's projected ServiceAccount token for an Entra token
// (client-credentials grant with the token as client assertion — exactly what the Azure SDKs do under
// workload identity) and runs one query as the app's role, logging the result or the step that failed.
// It proves the whole chain — label, annotation, federated credential, role label, firewall — with nothing
// built or pushed.

/** Stock image with psql and a TLS-capable wget; pinned by tag. */
export const CONNECTION_PROBE_IMAGE = "docker.io/library/postgres:17.6-alpine";

const SCRIPT = `export HOME=/tmp
scope="https%3A%2F%2Fossrdbms-aad.database.windows.net%2F.default"
assertion_type="urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
while true; do
  token="$(wget -qO- \\
    --post-data "grant_type=client_credentials&client_id=\${AZURE_CLIENT_ID}&scope=\${scope}&client_assertion_type=\${assertion_type}&client_assertion=$(cat "\${AZURE_FEDERATED_TOKEN_FILE}")" \\
    "\${AZURE_AUTHORITY_HOST}\${AZURE_TENANT_ID}/oauth2/v2.0/token" \\
    | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')"
  if [ -z "\${token}" ]; then
    echo "probe: token exchange failed (federated credential issuer/subject/audience, or the pod label)"
  elif PGPASSWORD="\${token}" psql -X -tAc "SELECT 'probe: connected as ' || current_user || ' to ' || current_database()"; then
    :
  else
    echo "probe: PostgreSQL refused the connection (role label, firewall, or database grants)"
  fi
  sleep 60
done
`;

/** The probe's container command. */
export const CONNECTION_PROBE_COMMAND: readonly string[] = ["/bin/sh", "-c", SCRIPT];
