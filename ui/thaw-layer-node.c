/* ThawLayerNode: a row of the freeze tree. See thaw-layer-node.h. */
#include "thaw-layer-node.h"

struct _ThawLayerNode {
    GObject parent_instance;

    ThawLayerNodeKind kind;
    char *name;
    int first, last;
    char *kind_text, *shape_text, *params_text;
    gboolean has_check;
    GListModel *children;

    /* state */
    gboolean trainable, inconsistent, frozen;
    char *bn_text;
};

G_DEFINE_FINAL_TYPE(ThawLayerNode, thaw_layer_node, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_TRAINABLE, PROP_INCONSISTENT, PROP_FROZEN, PROP_BN_TEXT, N_PROPS };

static GParamSpec *props[N_PROPS];

static void thaw_layer_node_finalize(GObject *object)
{
    ThawLayerNode *self = THAW_LAYER_NODE(object);
    g_free(self->name);
    g_free(self->kind_text);
    g_free(self->shape_text);
    g_free(self->params_text);
    g_free(self->bn_text);
    g_clear_object(&self->children);
    G_OBJECT_CLASS(thaw_layer_node_parent_class)->finalize(object);
}

static void thaw_layer_node_get_property(GObject *object, guint id, GValue *value,
                                         GParamSpec *pspec)
{
    ThawLayerNode *self = THAW_LAYER_NODE(object);
    switch (id) {
    case PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case PROP_TRAINABLE:
        g_value_set_boolean(value, self->trainable);
        break;
    case PROP_INCONSISTENT:
        g_value_set_boolean(value, self->inconsistent);
        break;
    case PROP_FROZEN:
        g_value_set_boolean(value, self->frozen);
        break;
    case PROP_BN_TEXT:
        g_value_set_string(value, self->bn_text);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thaw_layer_node_class_init(ThawLayerNodeClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->finalize = thaw_layer_node_finalize;
    object_class->get_property = thaw_layer_node_get_property;

    GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
    props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL, ro);
    props[PROP_TRAINABLE] = g_param_spec_boolean("trainable", NULL, NULL, FALSE, ro);
    props[PROP_INCONSISTENT] = g_param_spec_boolean("inconsistent", NULL, NULL, FALSE, ro);
    props[PROP_FROZEN] = g_param_spec_boolean("frozen", NULL, NULL, FALSE, ro);
    props[PROP_BN_TEXT] = g_param_spec_string("bn-text", NULL, NULL, NULL, ro);
    g_object_class_install_properties(object_class, N_PROPS, props);
}

static void thaw_layer_node_init(ThawLayerNode *self)
{
    self->first = self->last = -1;
}

ThawLayerNode *thaw_layer_node_new(ThawLayerNodeKind kind, const char *name, int first, int last)
{
    g_return_val_if_fail(name != NULL && first <= last, NULL);
    ThawLayerNode *self = g_object_new(THAW_TYPE_LAYER_NODE, NULL);
    self->kind = kind;
    self->name = g_strdup(name);
    self->first = first;
    self->last = last;
    return self;
}

void thaw_layer_node_set_texts(ThawLayerNode *self, const char *kind_text, const char *shape_text,
                               const char *params_text, gboolean has_check)
{
    g_return_if_fail(THAW_IS_LAYER_NODE(self));
    g_free(self->kind_text);
    g_free(self->shape_text);
    g_free(self->params_text);
    self->kind_text = g_strdup(kind_text);
    self->shape_text = g_strdup(shape_text);
    self->params_text = g_strdup(params_text);
    self->has_check = has_check;
}

void thaw_layer_node_set_children(ThawLayerNode *self, GListModel *children)
{
    g_return_if_fail(THAW_IS_LAYER_NODE(self));
    g_set_object(&self->children, children);
}

ThawLayerNodeKind thaw_layer_node_get_kind(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), THAW_LAYER_NODE_LAYER);
    return self->kind;
}

const char *thaw_layer_node_get_name(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->name;
}

int thaw_layer_node_get_first(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), -1);
    return self->first;
}

int thaw_layer_node_get_last(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), -1);
    return self->last;
}

const char *thaw_layer_node_get_kind_text(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->kind_text;
}

const char *thaw_layer_node_get_shape_text(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->shape_text;
}

const char *thaw_layer_node_get_params_text(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->params_text;
}

gboolean thaw_layer_node_get_has_check(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), FALSE);
    return self->has_check;
}

GListModel *thaw_layer_node_get_children(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->children;
}

gboolean thaw_layer_node_get_trainable(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), FALSE);
    return self->trainable;
}

gboolean thaw_layer_node_get_inconsistent(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), FALSE);
    return self->inconsistent;
}

gboolean thaw_layer_node_get_frozen(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), FALSE);
    return self->frozen;
}

const char *thaw_layer_node_get_bn_text(ThawLayerNode *self)
{
    g_return_val_if_fail(THAW_IS_LAYER_NODE(self), NULL);
    return self->bn_text;
}

void thaw_layer_node_set_state(ThawLayerNode *self, gboolean trainable, gboolean inconsistent,
                               gboolean frozen, const char *bn_text)
{
    g_return_if_fail(THAW_IS_LAYER_NODE(self));
    trainable = !!trainable;
    inconsistent = !!inconsistent;
    frozen = !!frozen;
    /* Hold the notifications until every field is set, so that a handler
     * of one property sees the new values of the others too. */
    g_object_freeze_notify(G_OBJECT(self));
    if (self->trainable != trainable) {
        self->trainable = trainable;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TRAINABLE]);
    }
    if (self->inconsistent != inconsistent) {
        self->inconsistent = inconsistent;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_INCONSISTENT]);
    }
    if (self->frozen != frozen) {
        self->frozen = frozen;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FROZEN]);
    }
    if (g_strcmp0(self->bn_text, bn_text) != 0) {
        g_free(self->bn_text);
        self->bn_text = g_strdup(bn_text);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BN_TEXT]);
    }
    g_object_thaw_notify(G_OBJECT(self));
}
