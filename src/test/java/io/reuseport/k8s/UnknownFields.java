package io.reuseport.k8s;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Finds fields that the fabric8 models did not recognise. fabric8 does not reject an unknown (e.g. misspelt) field:
 * it keeps it in the object's {@code additionalProperties}, and the API server would later drop or reject it. This
 * walks every fabric8 object reachable through getters and reports each non-empty {@code additionalProperties} with
 * its path. Free-form maps (labels, annotations, ConfigMap data) are plain {@code Map<String, String>} getters, not
 * {@code additionalProperties}, so they are never reported.
 */
final class UnknownFields {

  private static final int MAX_DEPTH = 64;

  private UnknownFields() {
  }

  /** One line per object with unknown fields, e.g. {@code spec.template.spec: [hostNetwrok]}; empty when none. */
  static List<String> in(Object root) {
    List<String> found = new ArrayList<>();
    walk(root, root.getClass().getSimpleName(), found, 0);
    return found;
  }

  private static void walk(Object node, String path, List<String> found, int depth) {
    if (node == null || depth > MAX_DEPTH) {
      return;
    }
    if (node instanceof Collection) {
      int i = 0;
      for (Object item : (Collection<?>) node) {
        walk(item, path + "[" + i++ + "]", found, depth + 1);
      }
      return;
    }
    if (node instanceof Map) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) node).entrySet()) {
        walk(e.getValue(), path + "[" + e.getKey() + "]", found, depth + 1);
      }
      return;
    }
    if (!isModel(node.getClass())) {
      return;
    }
    for (Method getter : node.getClass().getMethods()) {
      if (!isGetter(getter)) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        Map<?, ?> unknown = (Map<?, ?>) invoke(getter, node);
        if (unknown != null && !unknown.isEmpty()) {
          found.add(path + ": " + unknown.keySet());
        }
      } else if (isModel(getter.getReturnType()) || Collection.class.isAssignableFrom(getter.getReturnType())
          || Map.class.isAssignableFrom(getter.getReturnType())) {
        walk(invoke(getter, node), path + "." + property(getter), found, depth + 1);
      }
    }
  }

  private static boolean isModel(Class<?> type) {
    return type.getName().startsWith("io.fabric8.") && !type.isEnum();
  }

  private static boolean isGetter(Method m) {
    return m.getName().startsWith("get") && m.getParameterCount() == 0 && !Modifier.isStatic(m.getModifiers())
        && m.getDeclaringClass() != Object.class;
  }

  private static String property(Method getter) {
    String name = getter.getName().substring(3);
    return name.substring(0, 1).toLowerCase(Locale.ROOT) + name.substring(1);
  }

  private static Object invoke(Method getter, Object target) {
    try {
      return getter.invoke(target);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + getter + " of " + target.getClass().getName(), e);
    }
  }
}
