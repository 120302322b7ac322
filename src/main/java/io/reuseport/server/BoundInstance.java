package io.reuseport.server;

/**
 * A started server instance: its id, the event loop it runs on, the port it bound, its Vert.x deployment.
 */
public record BoundInstance(int id, String eventLoop, int port, String deploymentId) {

  BoundInstance withDeployment(String deployment) {
    return new BoundInstance(id, eventLoop, port, deployment);
  }
}
