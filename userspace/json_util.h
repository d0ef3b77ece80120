/* SPDX-License-Identifier: GPL-2.0 */
/* Small json-c helpers shared by the request validators. */
#ifndef HUSK_JSON_UTIL_H
#define HUSK_JSON_UTIL_H

#include <json-c/json.h>

/* The JSON type of v by name ("string", "null", ...), for messages. */
static inline const char *husk_json_type(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* A member of obj, or NULL; JSON null counts as absent, as it does for Lambda. */
static inline struct json_object *husk_json_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

#endif
