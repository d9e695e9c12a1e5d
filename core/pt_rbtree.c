/*
 * pt_rbtree.c: red-black tree (CLRS, with a shared black sentinel).
 *
 * The tree never allocates: nodes live inside their owners.  Duplicate keys
 * are allowed; the insert function decides where equal keys go.
 */

#include "portico.h"

static void pt_rbtree_left_rotate(pt_rbtree_node_t **root,
    pt_rbtree_node_t *sentinel, pt_rbtree_node_t *node);
static void pt_rbtree_right_rotate(pt_rbtree_node_t **root,
    pt_rbtree_node_t *sentinel, pt_rbtree_node_t *node);

void
pt_rbtree_insert(pt_rbtree_t *tree, pt_rbtree_node_t *node)
{
    pt_rbtree_node_t  **root, *temp, *sentinel;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (*root == sentinel) {
        node->parent = NULL;
        node->left = sentinel;
        node->right = sentinel;
        pt_rbt_black(node);
        *root = node;
        return;
    }

    tree->insert(*root, node, sentinel);

    /* Restore the invariants: walk up while the parent is red. */
    while (node != *root && pt_rbt_is_red(node->parent)) {

        if (node->parent == node->parent->parent->left) {
            temp = node->parent->parent->right;

            if (pt_rbt_is_red(temp)) {
                pt_rbt_black(node->parent);
                pt_rbt_black(temp);
                pt_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->right) {
                    node = node->parent;
                    pt_rbtree_left_rotate(root, sentinel, node);
                }

                pt_rbt_black(node->parent);
                pt_rbt_red(node->parent->parent);
                pt_rbtree_right_rotate(root, sentinel, node->parent->parent);
            }

        } else {
            temp = node->parent->parent->left;

            if (pt_rbt_is_red(temp)) {
                pt_rbt_black(node->parent);
                pt_rbt_black(temp);
                pt_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->left) {
                    node = node->parent;
                    pt_rbtree_right_rotate(root, sentinel, node);
                }

                pt_rbt_black(node->parent);
                pt_rbt_red(node->parent->parent);
                pt_rbtree_left_rotate(root, sentinel, node->parent->parent);
            }
        }
    }

    pt_rbt_black(*root);
}

/* Plain ordering: equal keys go right, so insertion order is kept. */
void
pt_rbtree_insert_value(pt_rbtree_node_t *temp, pt_rbtree_node_t *node,
    pt_rbtree_node_t *sentinel)
{
    pt_rbtree_node_t  **p;

    for ( ;; ) {
        p = (node->key < temp->key) ? &temp->left : &temp->right;
        if (*p == sentinel) {
            break;
        }
        temp = *p;
    }

    pt_rbtree_link_leaf(p, node, temp, sentinel);
}

/* Timer keys wrap around; compare by signed difference so ordering is
 * right as long as timers are less than half the key range apart. */
void
pt_rbtree_insert_timer_value(pt_rbtree_node_t *temp, pt_rbtree_node_t *node,
    pt_rbtree_node_t *sentinel)
{
    pt_rbtree_node_t  **p;

    for ( ;; ) {
        p = ((pt_rbtree_key_int_t) (node->key - temp->key) < 0)
            ? &temp->left : &temp->right;
        if (*p == sentinel) {
            break;
        }
        temp = *p;
    }

    pt_rbtree_link_leaf(p, node, temp, sentinel);
}

void
pt_rbtree_delete(pt_rbtree_t *tree, pt_rbtree_node_t *node)
{
    pt_uint_t           red;
    pt_rbtree_node_t  **root, *sentinel, *subst, *temp, *w;

    root = &tree->root;
    sentinel = tree->sentinel;

    /* subst: the node actually unlinked; temp: the child replacing it. */
    if (node->left == sentinel) {
        temp = node->right;
        subst = node;

    } else if (node->right == sentinel) {
        temp = node->left;
        subst = node;

    } else {
        subst = pt_rbtree_min(node->right, sentinel);
        temp = subst->right;
    }

    if (subst == *root) {
        *root = temp;
        pt_rbt_black(temp);

        node->left = NULL;
        node->right = NULL;
        node->parent = NULL;
        node->key = 0;
        return;
    }

    red = pt_rbt_is_red(subst);

    if (subst == subst->parent->left) {
        subst->parent->left = temp;
    } else {
        subst->parent->right = temp;
    }

    if (subst == node) {
        temp->parent = subst->parent;

    } else {
        if (subst->parent == node) {
            temp->parent = subst;
        } else {
            temp->parent = subst->parent;
        }

        /* Put subst in node's place, taking its links and colour. */
        subst->left = node->left;
        subst->right = node->right;
        subst->parent = node->parent;
        pt_rbt_copy_color(subst, node);

        if (node == *root) {
            *root = subst;
        } else if (node == node->parent->left) {
            node->parent->left = subst;
        } else {
            node->parent->right = subst;
        }

        if (subst->left != sentinel) {
            subst->left->parent = subst;
        }
        if (subst->right != sentinel) {
            subst->right->parent = subst;
        }
    }

    node->left = NULL;
    node->right = NULL;
    node->parent = NULL;
    node->key = 0;

    if (red) {
        return;
    }

    /* A black node was removed: push the extra black up or resolve it. */
    while (temp != *root && pt_rbt_is_black(temp)) {

        if (temp == temp->parent->left) {
            w = temp->parent->right;

            if (pt_rbt_is_red(w)) {
                pt_rbt_black(w);
                pt_rbt_red(temp->parent);
                pt_rbtree_left_rotate(root, sentinel, temp->parent);
                w = temp->parent->right;
            }

            if (pt_rbt_is_black(w->left) && pt_rbt_is_black(w->right)) {
                pt_rbt_red(w);
                temp = temp->parent;

            } else {
                if (pt_rbt_is_black(w->right)) {
                    pt_rbt_black(w->left);
                    pt_rbt_red(w);
                    pt_rbtree_right_rotate(root, sentinel, w);
                    w = temp->parent->right;
                }

                pt_rbt_copy_color(w, temp->parent);
                pt_rbt_black(temp->parent);
                pt_rbt_black(w->right);
                pt_rbtree_left_rotate(root, sentinel, temp->parent);
                temp = *root;
            }

        } else {
            w = temp->parent->left;

            if (pt_rbt_is_red(w)) {
                pt_rbt_black(w);
                pt_rbt_red(temp->parent);
                pt_rbtree_right_rotate(root, sentinel, temp->parent);
                w = temp->parent->left;
            }

            if (pt_rbt_is_black(w->left) && pt_rbt_is_black(w->right)) {
                pt_rbt_red(w);
                temp = temp->parent;

            } else {
                if (pt_rbt_is_black(w->left)) {
                    pt_rbt_black(w->right);
                    pt_rbt_red(w);
                    pt_rbtree_left_rotate(root, sentinel, w);
                    w = temp->parent->left;
                }

                pt_rbt_copy_color(w, temp->parent);
                pt_rbt_black(temp->parent);
                pt_rbt_black(w->left);
                pt_rbtree_right_rotate(root, sentinel, temp->parent);
                temp = *root;
            }
        }
    }

    pt_rbt_black(temp);
}

static void
pt_rbtree_left_rotate(pt_rbtree_node_t **root, pt_rbtree_node_t *sentinel,
    pt_rbtree_node_t *node)
{
    pt_rbtree_node_t  *temp;

    temp = node->right;
    node->right = temp->left;

    if (temp->left != sentinel) {
        temp->left->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;
    } else if (node == node->parent->left) {
        node->parent->left = temp;
    } else {
        node->parent->right = temp;
    }

    temp->left = node;
    node->parent = temp;
}

static void
pt_rbtree_right_rotate(pt_rbtree_node_t **root, pt_rbtree_node_t *sentinel,
    pt_rbtree_node_t *node)
{
    pt_rbtree_node_t  *temp;

    temp = node->left;
    node->left = temp->right;

    if (temp->right != sentinel) {
        temp->right->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;
    } else if (node == node->parent->right) {
        node->parent->right = temp;
    } else {
        node->parent->left = temp;
    }

    temp->right = node;
    node->parent = temp;
}

pt_rbtree_node_t *
pt_rbtree_next(pt_rbtree_t *tree, pt_rbtree_node_t *node)
{
    pt_rbtree_node_t  *root, *sentinel, *parent;

    sentinel = tree->sentinel;

    if (node->right != sentinel) {
        return pt_rbtree_min(node->right, sentinel);
    }

    root = tree->root;

    for ( ;; ) {
        parent = node->parent;

        if (node == root) {
            return NULL;
        }
        if (node == parent->left) {
            return parent;
        }
        node = parent;
    }
}
