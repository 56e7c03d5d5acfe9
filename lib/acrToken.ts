// Pushing to the registry with the deployer's own Entra identity — no admin user, no stored password.
// This is what `az acr login` does: trade an Entra access token for a short-lived ACR refresh token at the
// registry's /oauth2/exchange endpoint, then authenticate as the fixed "null GUID" user with it.

/** The username ACR expects alongside a refresh token obtained by token exchange. */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

/** Exchanges an Entra access token (ARM audience) for an ACR refresh token. */
export async function exchangeForAcrRefreshToken(
    loginServer: string,
    tenantId: string,
    entraAccessToken: string,
    fetchImpl: typeof fetch = fetch,
): Promise<string> {
    const response = await fetchImpl(`https://${loginServer}/oauth2/exchange`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
            grant_type: "access_token",
            service: loginServer,
            tenant: tenantId,
            access_token: entraAccessToken,
        }).toString(),
    });
    const body = await response.text();
    if (!response.ok) {
        throw new Error(`ACR token exchange at ${loginServer} failed (${response.status}): ${body.slice(0, 300)}. `
            + "Does the deployer hold AcrPush on the registry (a new role assignment can take a few minutes)?");
    }
    const token = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
    if (!token) {
        throw new Error(`ACR token exchange at ${loginServer} returned no refresh_token`);
    }
    return token;
}
