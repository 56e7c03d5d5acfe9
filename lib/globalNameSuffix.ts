import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * Six random lower-case letters and digits, fixed for the resource's life: what makes a name that becomes a
 * global DNS name (`<server>.postgres.database.azure.com`, `<registry>.azurecr.io`) unique across Azure.
 */
export function globalNameSuffix(parent: pulumi.Resource, name: string): pulumi.Output<string> {
    return new random.RandomString(`${name}-suffix`, {
        length: 6, lower: true, upper: false, numeric: true, special: false,
    }, { parent }).result;
}
