// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime of a function version, and the API error helper every part of
 * huskd fills in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codepkg.h"
#include "function.h"
#include "husk.h"
#include "log.h"
#include "policy.h"

/* Frees fn itself too: every struct husk_function is heap-allocated. */
void husk_fn_free(struct husk_function *fn)
{
	size_t i;

	if (!fn)
		return;
	for (i = 0; i < fn->n_env; i++) {
		free(fn->env[i].key);
		free(fn->env[i].value);
	}
	free(fn->env);
	free(fn->name);
	free(fn->arn);
	free(fn->runtime);
	free(fn->handler);
	free(fn->role);
	free(fn->description);
	free(fn->code_dir);
	husk_policy_free(fn->policy);
	free(fn);
}

void husk_fn_put(struct husk_function *fn)
{
	int rc;

	if (!fn || atomic_fetch_sub(&fn->refs, 1) != 1)
		return;
	/*
	 * The last reference: no environment runs this version any more, so
	 * its extracted code can go.
	 */
	if (fn->code_dir) {
		rc = husk_code_remove(fn->code_dir);
		if (rc)
			pr_warn("function %s: could not remove code directory %s: %s", fn->name,
				fn->code_dir, strerror(-rc));
	}
	husk_fn_free(fn);
}
