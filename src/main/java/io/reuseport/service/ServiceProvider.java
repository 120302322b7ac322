package io.reuseport.service;

/**
 * Makes a {@link Service} available by name. Implementations are found with {@link java.util.ServiceLoader}: list
 * the class in {@code META-INF/services/io.reuseport.service.ServiceProvider} of a jar on the class path.
 */
public interface ServiceProvider {

  /** The name used in the {@code service} setting. */
  String name();

  /** Creates the service of one server instance; called on that instance's event loop. */
  Service create(ServiceContext context);
}
